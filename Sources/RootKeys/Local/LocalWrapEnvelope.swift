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

/// The ciphertext of a key wrapped by ``LocalRootKeyService``.
///
/// ```
/// algorithm u8 (1 = AES-256-GCM, 2 = AES-256-KWP) | root-key version u32 big-endian | payload
/// ```
///
/// - AES-256-GCM: the payload is an ``AES256GCM`` box under the root-key version, with AAD
///   `header (5 bytes) || caller's AAD`, so the header cannot be altered either.
/// - AES-256-KWP: RFC 5649 takes no AAD, so the payload is wrapped under a per-AAD key
///   `HKDF-Expand-SHA256(root key, "keystorm/rootkeys/local/kwp/v1" || 0x00 || header || caller's AAD)`;
///   a wrong AAD yields another key and the RFC 5649 integrity check fails.
enum LocalWrapEnvelope {
    static let headerByteCount = 5
    private static let kwpContext = Array("keystorm/rootkeys/local/kwp/v1".utf8) + [0]

    /// The algorithm and root-key version a ciphertext names.
    struct Header: Hashable {
        var algorithm: LocalRootKeyService.WrapAlgorithm
        var version: Int
    }

    static func encodeHeader(_ header: Header) -> [UInt8] {
        let version = UInt32(header.version)
        return [header.algorithm.rawValue, UInt8(version >> 24), UInt8(version >> 16 & 0xFF)]
            + [UInt8(version >> 8 & 0xFF), UInt8(version & 0xFF)]
    }

    /// Reads the header; ``RootKeyError/invalidCiphertext`` when it is short or unknown.
    static func parseHeader(_ ciphertext: [UInt8]) throws -> Header {
        guard ciphertext.count > Self.headerByteCount else {
            throw RootKeyError(.invalidCiphertext, reason: "a wrapped key has \(ciphertext.count) bytes, too few")
        }
        guard let algorithm = LocalRootKeyService.WrapAlgorithm(rawValue: ciphertext[0]) else {
            throw RootKeyError(.invalidCiphertext, reason: "unknown wrapping algorithm \(ciphertext[0])")
        }
        let version = ciphertext[1..<5].reduce(0) { $0 << 8 | Int($1) }
        guard version > 0 else { throw RootKeyError(.invalidCiphertext, reason: "root-key version 0") }
        return Header(algorithm: algorithm, version: version)
    }

    /// Wraps `plaintext` under `key` (the root key's version `header.version`).
    static func seal(_ plaintext: SecretBytes, key: SecretBytes, header: Header, aad: [UInt8]) throws -> [UInt8] {
        let headerBytes = Self.encodeHeader(header)
        switch header.algorithm {
        case .aes256GCM:
            return headerBytes + (try AES256GCM.seal(plaintext, key: key, aad: headerBytes + aad))
        default:
            let kek = try Self.kwpKey(key, headerBytes: headerBytes, aad: aad)
            return headerBytes + (try AESKeyWrapWithPadding.wrap(plaintext, kek: kek))
        }
    }

    /// Unwraps a ciphertext whose header ``parseHeader(_:)`` read, with the root key it names.
    static func open(_ ciphertext: [UInt8], header: Header, key: SecretBytes, aad: [UInt8]) throws -> SecretBytes {
        let headerBytes = Array(ciphertext[0..<Self.headerByteCount])
        return try ciphertext.withUnsafeBytes { ciphertext in
            let payload = UnsafeRawBufferPointer(rebasing: ciphertext[Self.headerByteCount...])
            switch header.algorithm {
            case .aes256GCM:
                let fullAAD = headerBytes + aad
                return try key.withUnsafeBytes { key in
                    try fullAAD.withUnsafeBytes { fullAAD in
                        try AES256GCM.open(sealed: payload, key: key, aad: fullAAD)
                    }
                }
            default:
                let kek = try Self.kwpKey(key, headerBytes: headerBytes, aad: aad)
                return try kek.withUnsafeBytes { kek in
                    try AESKeyWrapWithPadding.unwrap(ciphertext: payload, kek: kek)
                }
            }
        }
    }

    private static func kwpKey(_ rootKey: SecretBytes, headerBytes: [UInt8], aad: [UInt8]) throws -> SecretBytes {
        try rootKey.withUnsafeBytes { rootKey in
            try HKDF.expandSHA256(prk: rootKey, info: Self.kwpContext + headerBytes + aad)
        }
    }
}
