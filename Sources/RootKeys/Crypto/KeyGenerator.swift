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

internal import CKeystormCrypto

/// Key material and nonces from OpenSSL's CSPRNG (`RAND_bytes`, the DRBG seeded from the OS).
///
/// ```swift
/// let dataKey = try KeyGenerator.randomBytes(count: 32)   // an AES-256 key for a KMIP Create
/// ```
public enum KeyGenerator {
    /// Fresh random bytes in a zeroizing buffer.
    ///
    /// - Parameter count: The number of bytes, at least 0.
    /// - Returns: `count` bytes from the CSPRNG.
    /// - Throws: ``RootKeyError/cryptoFailure`` when the generator is not seeded or fails;
    ///   ``RootKeyError/invalidArgument`` for a negative or huge count.
    public static func randomBytes(count: Int) throws -> SecretBytes {
        guard count >= 0 else {
            throw RootKeyError(.invalidArgument, reason: "cannot generate \(count) random bytes")
        }
        return try SecretBytes(count: count) { try Self.fill($0) }
    }

    /// Fills `buffer` from the CSPRNG.
    static func fill(_ buffer: UnsafeMutableRawBufferPointer) throws {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        let length = try OpenSSL.int32Length(buffer.count, "a random buffer")
        try OpenSSL.call("RAND_bytes") {
            RAND_bytes(base.assumingMemoryBound(to: UInt8.self), length)
        }
    }

    /// Random bytes that are not secret (nonces, identifiers).
    static func publicRandomBytes(count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try Self.fill($0) }
        return bytes
    }

    /// A random (version 4) UUID in lowercase text form, for root-key ids.
    static func uuidString() throws -> String {
        var bytes = try Self.publicRandomBytes(count: 16)
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = ByteEncoding.hex(bytes)
        let groups = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
            let start = hex.index(hex.startIndex, offsetBy: range.lowerBound)
            let end = hex.index(hex.startIndex, offsetBy: range.upperBound)
            return String(hex[start..<end])
        }
        return groups.joined(separator: "-")
    }
}
