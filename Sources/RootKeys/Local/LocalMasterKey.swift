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

/// The Local provider's master key: 32 bytes that seal `rootkeys.sealed`.
///
/// Written as 64 lowercase hex digits and a newline; read as hex (64 digits) or base64 (of 32
/// bytes), surrounding whitespace ignored. A key file must not be readable, writable or executable
/// by anyone but its owner (mode 0600 or 0400).
enum LocalMasterKey {
    static let environmentVariable = "KEYSTORM_MASTER_KEY"
    static let fileName = "master.key"
    static let byteCount = 32

    /// Decodes hex or base64 text into a 32-byte key; `source` names where it came from.
    static func decode(_ text: some Collection<UInt8>, source: String) throws -> SecretBytes {
        var trimmed = Array(text.drop { Self.isWhitespace($0) })
        defer { SecretBytes.wipe(&trimmed) }
        while let last = trimmed.last, Self.isWhitespace(last) { trimmed.removeLast() }
        guard var bytes = ByteEncoding.decodeHex(trimmed) ?? ByteEncoding.decodeBase64(trimmed) else {
            throw RootKeyError(.invalidMasterKey, reason: "\(source) is neither hex nor base64")
        }
        defer { SecretBytes.wipe(&bytes) }
        guard bytes.count == Self.byteCount else {
            throw RootKeyError(
                .invalidMasterKey,
                reason: "\(source) holds \(bytes.count) bytes; a master key is \(Self.byteCount) bytes "
                    + "(64 hex digits or 44 base64 characters)"
            )
        }
        return SecretBytes(bytes)
    }

    /// Reads the key file at `path`, or creates it with 32 random bytes when it is missing.
    ///
    /// - Parameter sealed: Where root keys already exist, if they do; then a missing key file is
    ///   an error, because a new master key could never open them.
    static func loadOrCreate(path: String, sealed: String?) throws -> SecretBytes {
        if let key = try Self.load(path: path) { return key }
        if let sealed {
            throw RootKeyError(
                .invalidMasterKey,
                reason: "\(path) is missing but root keys exist (\(sealed)): restore the master key file "
                    + "(on a new node, copy it from another node) or set \(Self.environmentVariable); "
                    + "a new master key could not open the existing root keys"
            )
        }
        let key = try KeyGenerator.randomBytes(count: Self.byteCount)
        var text = key.withUnsafeBytes { ByteEncoding.hexDigits($0) }
        text.append(UInt8(ascii: "\n"))
        defer { SecretBytes.wipe(&text) }
        let created = try text.withUnsafeBytes { try FileSystem.createExclusively($0, at: path, mode: 0o600) }
        if created { return key }
        // Another process created it first: use that one.
        guard let existing = try Self.load(path: path) else {
            throw RootKeyError(.io, reason: "\(path) vanished while it was being created")
        }
        return existing
    }

    private static func load(path: String) throws -> SecretBytes? {
        guard var file = try FileSystem.readFile(at: path) else { return nil }
        defer { SecretBytes.wipe(&file.bytes) }
        guard file.mode & 0o177 == 0 else {
            throw RootKeyError(
                .insecurePermissions,
                reason: "master key file \(path) has mode 0\(String(file.mode, radix: 8)), wider than 0600: "
                    + "refusing to use it; run `chmod 600 \(path)` once you are sure no one else has read it"
            )
        }
        return try Self.decode(file.bytes, source: path)
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
            || byte == UInt8(ascii: "\t")
    }

    /// `KEYSTORM_MASTER_KEY` from the process environment, when set and not empty.
    static func fromEnvironment() -> String? {
        guard let value = getenv(Self.environmentVariable) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }
}
