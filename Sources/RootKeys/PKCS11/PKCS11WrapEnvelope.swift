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

/// The ciphertext of a key wrapped by ``PKCS11RootKeyService``.
///
/// ```
/// format u8 (1) | root-key version u32 big-endian | IV (12 bytes) | AES-256-GCM ciphertext | tag (16 bytes)
/// ```
///
/// The token encrypts with `CKM_AES_GCM` under the root key's version object, with a random 12-byte
/// IV and the AAD `format || version (5 bytes) || caller's AAD`, so neither the header nor the
/// binding to the caller's object can be altered. A 32-byte data key wraps to 65 bytes.
enum PKCS11WrapEnvelope {
    static let format: UInt8 = 1
    static let headerByteCount = 5
    static let ivByteCount = 12
    static let tagByteCount = 16

    /// The parts of a wrapped key.
    struct Parsed {
        var version: Int
        var header: [UInt8]
        var iv: [UInt8]
        /// Offset of ciphertext || tag in the wrapped key.
        var payloadOffset: Int
    }

    static func header(version: Int) -> [UInt8] {
        let version = UInt32(version)
        return [Self.format, UInt8(version >> 24), UInt8(version >> 16 & 0xFF), UInt8(version >> 8 & 0xFF)]
            + [UInt8(version & 0xFF)]
    }

    /// The AAD the token authenticates: the header, then the caller's AAD.
    static func tokenAAD(header: [UInt8], aad: [UInt8]) -> [UInt8] { header + aad }

    /// Splits a wrapped key; ``RootKeyError/invalidCiphertext`` when it is short, of another
    /// format, or names version 0.
    static func parse(_ ciphertext: [UInt8]) throws -> Parsed {
        let minimum = Self.headerByteCount + Self.ivByteCount + Self.tagByteCount + 1
        guard ciphertext.count >= minimum else {
            throw RootKeyError(.invalidCiphertext, reason: "a wrapped key has \(ciphertext.count) bytes, too few")
        }
        guard ciphertext[0] == Self.format else {
            throw RootKeyError(.invalidCiphertext, reason: "unknown PKCS#11 wrapped-key format \(ciphertext[0])")
        }
        let version = ciphertext[1..<5].reduce(0) { $0 << 8 | Int($1) }
        guard version > 0 else { throw RootKeyError(.invalidCiphertext, reason: "root-key version 0") }
        let ivEnd = Self.headerByteCount + Self.ivByteCount
        return Parsed(
            version: version,
            header: Array(ciphertext[0..<Self.headerByteCount]),
            iv: Array(ciphertext[Self.headerByteCount..<ivEnd]),
            payloadOffset: ivEnd
        )
    }
}
