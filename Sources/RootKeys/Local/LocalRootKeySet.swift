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

/// One root key as the Local provider holds it.
struct LocalRootKey: Sendable {
    var id: String
    var label: String
    var state: RootKeyState
    var currentVersion: Int
    /// 32-byte key material by version. Empty once the key is deleted.
    var versions: [Int: SecretBytes]
}

/// The plaintext inside `rootkeys.sealed`: every root key, binary and length-prefixed.
///
/// A hand-written format rather than JSON, so the serialized key material lives only in one
/// zeroizing ``SecretBytes`` buffer, never in `Data` or `String` copies that cannot be wiped.
/// All integers are big-endian:
///
/// ```
/// "KSRK" | format u8 = 1 | key count u32
/// per key (sorted by id):
///   id length u16 | id UTF-8 | label length u16 | label UTF-8
///   state u8 (0 active, 1 disabled, 2 deleted) | current version u32
///   version count u32 | per version (ascending): version u32 | 32 key bytes
/// ```
///
/// A deleted key keeps its id, label, state and current version, and has no versions.
enum LocalRootKeySetCodec {
    static let magic: [UInt8] = Array("KSRK".utf8)
    static let formatVersion: UInt8 = 1
    static let keyByteCount = 32
    static let maximumStringLength = Int(UInt16.max)

    /// Serializes `keys` into a new zeroizing buffer.
    static func encode(_ keys: [String: LocalRootKey]) -> SecretBytes {
        let ordered = keys.values.sorted { $0.id < $1.id }
        var size = Self.magic.count + 1 + 4
        for key in ordered {
            size += 2 + key.id.utf8.count + 2 + key.label.utf8.count + 1 + 4 + 4
            size += key.versions.count * (4 + Self.keyByteCount)
        }
        return SecretBytes(count: size) { buffer in
            var writer = ByteWriter(buffer)
            writer.append(Self.magic)
            writer.append(Self.formatVersion)
            writer.append(UInt32(ordered.count))
            for key in ordered {
                writer.appendString(key.id)
                writer.appendString(key.label)
                writer.append(Self.stateByte(key.state))
                writer.append(UInt32(key.currentVersion))
                writer.append(UInt32(key.versions.count))
                for (version, material) in key.versions.sorted(by: { $0.key < $1.key }) {
                    writer.append(UInt32(version))
                    material.withUnsafeBytes { writer.append($0) }
                }
            }
            precondition(writer.offset == size, "root-key set size mismatch")
        }
    }

    /// Parses a buffer made by ``encode(_:)``.
    ///
    /// - Throws: ``RootKeyError/corruptKeyFile`` for anything but a well-formed set.
    static func decode(_ plaintext: SecretBytes) throws -> [String: LocalRootKey] {
        try plaintext.withUnsafeBytes { buffer in
            var reader = ByteReader(buffer)
            guard try Array(reader.read(count: Self.magic.count)) == Self.magic else {
                throw Self.corrupt("the root-key set does not start with KSRK")
            }
            let format = try reader.readUInt8()
            guard format == Self.formatVersion else {
                throw Self.corrupt("unknown root-key set format \(format)")
            }
            var keys: [String: LocalRootKey] = [:]
            for _ in 0..<(try reader.readUInt32()) {
                let key = try Self.decodeKey(&reader)
                guard keys.updateValue(key, forKey: key.id) == nil else {
                    throw Self.corrupt("root key \(key.id) appears twice")
                }
            }
            guard reader.isAtEnd else { throw Self.corrupt("bytes follow the last root key") }
            return keys
        }
    }

    private static func decodeKey(_ reader: inout ByteReader) throws -> LocalRootKey {
        let id = try reader.readString()
        let label = try reader.readString()
        let stateByte = try reader.readUInt8()
        guard let state = Self.state(stateByte) else { throw Self.corrupt("root key \(id) has state \(stateByte)") }
        let currentVersion = Int(try reader.readUInt32())
        var versions: [Int: SecretBytes] = [:]
        var previous = 0
        for _ in 0..<(try reader.readUInt32()) {
            let version = Int(try reader.readUInt32())
            guard version > previous else { throw Self.corrupt("root key \(id) lists version \(version) out of order") }
            previous = version
            versions[version] = SecretBytes(try reader.read(count: Self.keyByteCount))
        }
        switch state {
        case .deleted:
            guard versions.isEmpty else { throw Self.corrupt("deleted root key \(id) still holds material") }
        case .active, .disabled:
            guard versions[currentVersion] != nil else {
                throw Self.corrupt("root key \(id) has no material for its current version \(currentVersion)")
            }
        }
        return LocalRootKey(id: id, label: label, state: state, currentVersion: currentVersion, versions: versions)
    }

    private static func stateByte(_ state: RootKeyState) -> UInt8 {
        switch state {
        case .active: 0
        case .disabled: 1
        case .deleted: 2
        }
    }

    private static func state(_ byte: UInt8) -> RootKeyState? {
        switch byte {
        case 0: .active
        case 1: .disabled
        case 2: .deleted
        default: nil
        }
    }

    private static func corrupt(_ reason: String) -> RootKeyError {
        RootKeyError(.corruptKeyFile, reason: "rootkeys.sealed: " + reason)
    }
}

/// Appends big-endian integers and bytes to a buffer sized in advance.
private struct ByteWriter {
    let buffer: UnsafeMutableRawBufferPointer
    var offset = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        UnsafeMutableRawBufferPointer(rebasing: self.buffer[self.offset..<(self.offset + bytes.count)])
            .copyMemory(from: bytes)
        self.offset += bytes.count
    }

    mutating func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { self.append($0) } }
    mutating func append(_ value: UInt8) { self.append([value]) }
    mutating func append(_ value: UInt32) { withUnsafeBytes(of: value.bigEndian) { self.append($0) } }

    mutating func appendString(_ text: String) {
        let utf8 = Array(text.utf8)
        withUnsafeBytes(of: UInt16(utf8.count).bigEndian) { self.append($0) }
        self.append(utf8)
    }
}

/// Reads big-endian integers and bytes, throwing at the end of the buffer.
private struct ByteReader {
    let buffer: UnsafeRawBufferPointer
    var offset = 0

    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    var isAtEnd: Bool { self.offset == self.buffer.count }

    mutating func read(count: Int) throws -> UnsafeRawBufferPointer {
        guard count <= self.buffer.count - self.offset else {
            throw RootKeyError(.corruptKeyFile, reason: "rootkeys.sealed: the root-key set is truncated")
        }
        defer { self.offset += count }
        return UnsafeRawBufferPointer(rebasing: self.buffer[self.offset..<(self.offset + count)])
    }

    mutating func readUInt8() throws -> UInt8 { try self.read(count: 1)[0] }

    mutating func readUInt16() throws -> UInt16 {
        try self.read(count: 2).reduce(0) { $0 << 8 | UInt16($1) }
    }

    mutating func readUInt32() throws -> UInt32 {
        try self.read(count: 4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func readString() throws -> String {
        let length = Int(try self.readUInt16())
        return String(decoding: try self.read(count: length), as: UTF8.self)
    }
}
