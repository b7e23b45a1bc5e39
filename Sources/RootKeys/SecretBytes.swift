//===----------------------------------------------------------------------===//
//
// This source file is part of the Keystorm open source project
//
// Copyright (c) 2026 the Keystorm project authors
// Licensed under Apache License v2.0
//
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Key material in memory that Keystorm owns: one heap buffer, zeroed when the last reference goes.
///
/// Never printed: its descriptions show the length only. Copy the bytes out only to put them on
/// the wire or into a cipher; prefer `withUnsafeBytes`.
public final class SecretBytes: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private let buffer: UnsafeMutableRawBufferPointer

    /// The number of bytes. (The buffer behind an empty value holds one byte, which is not counted.)
    public var count: Int { self.length }

    /// Copies `bytes` into a new secret buffer. The caller should wipe its own copy.
    public init(_ bytes: some Collection<UInt8>) {
        self.buffer = .allocate(byteCount: max(bytes.count, 1), alignment: 16)
        self.buffer.initializeMemory(as: UInt8.self, repeating: 0)
        _ = UnsafeMutableRawBufferPointer(rebasing: self.buffer[0..<bytes.count]).initializeMemory(
            as: UInt8.self,
            from: bytes
        )
        self.length = bytes.count
    }

    /// A zero-filled buffer of `count` bytes that `fill` initialises (e.g. from a CSPRNG).
    public init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        self.buffer = .allocate(byteCount: max(count, 1), alignment: 16)
        self.buffer.initializeMemory(as: UInt8.self, repeating: 0)
        self.length = count
        do {
            try fill(UnsafeMutableRawBufferPointer(rebasing: self.buffer[0..<count]))
        } catch {
            Self.wipe(self.buffer)
            throw error
        }
    }

    private let length: Int
    /// Tests only: sees the buffer after the wipe in `deinit`, before it is freed.
    private var wipeObserver: (@Sendable (UnsafeRawBufferPointer) -> Void)?

    /// Tests only: copies `bytes` like ``init(_:)``, and calls `wipeObserver` from `deinit` with the
    /// whole buffer once it has been zeroed, so a test can prove that a released key was wiped.
    convenience init(_ bytes: [UInt8], wipeObserver: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) {
        self.init(bytes)
        self.wipeObserver = wipeObserver
    }

    deinit {
        Self.wipe(self.buffer)
        self.wipeObserver?(UnsafeRawBufferPointer(self.buffer))
        self.buffer.deallocate()
    }

    /// Calls `body` with the bytes; do not let them escape.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: self.buffer[0..<self.length]))
    }

    /// A copy of the bytes as an array, for encoding a response. Wipe it when done if you can.
    public func copyBytes() -> [UInt8] {
        self.withUnsafeBytes { Array($0) }
    }

    /// Constant-time equality of contents.
    public func constantTimeEquals(_ other: SecretBytes) -> Bool {
        guard self.length == other.length else { return false }
        var difference: UInt8 = 0
        self.withUnsafeBytes { a in
            other.withUnsafeBytes { b in
                for i in 0..<a.count { difference |= a[i] ^ b[i] }
            }
        }
        return difference == 0
    }

    public var description: String { "SecretBytes(\(self.length) bytes)" }
    public var debugDescription: String { self.description }

    /// Overwrites memory with zeros in a way the optimiser cannot drop.
    public static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        explicit_bzero(base, buffer.count)
    }

    /// Overwrites an array's bytes with zeros.
    public static func wipe(_ array: inout [UInt8]) {
        array.withUnsafeMutableBytes { Self.wipe($0) }
    }
}
