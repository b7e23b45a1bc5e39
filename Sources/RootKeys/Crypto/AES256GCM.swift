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

/// AES-256-GCM (NIST SP 800-38D) through OpenSSL's EVP interface, with a random 96-bit nonce.
///
/// A sealed box is `version (1 byte, 0x01) || nonce (12) || ciphertext || tag (16)`, so it is
/// ``overhead`` (29) bytes longer than the plaintext. Never seal more than 2^32 messages under one
/// key with random nonces; root keys and the master key stay far below that.
///
/// ```swift
/// let box = try AES256GCM.seal(dataKey, key: rootKey, aad: Array("tenant/uid".utf8))
/// let back = try AES256GCM.open(box, key: rootKey, aad: Array("tenant/uid".utf8))
/// ```
public enum AES256GCM {
    /// The first byte of every sealed box this version writes.
    public static let formatVersion: UInt8 = 1
    /// The key length: 32 bytes.
    public static let keyByteCount = 32
    /// The nonce length: 12 bytes.
    public static let nonceByteCount = 12
    /// The tag length: 16 bytes.
    public static let tagByteCount = 16
    /// Sealed box length minus plaintext length.
    public static let overhead = 1 + nonceByteCount + tagByteCount

    /// Encrypts and authenticates `plaintext`, and authenticates `aad`.
    ///
    /// - Parameters:
    ///   - plaintext: The bytes to protect; may be empty.
    ///   - key: A 32-byte key.
    ///   - aad: Additional authenticated data: bound to the box, not stored in it.
    /// - Returns: `0x01 || nonce || ciphertext || tag`.
    /// - Throws: ``RootKeyError/invalidArgument`` for a key of the wrong length,
    ///   ``RootKeyError/cryptoFailure`` when OpenSSL fails.
    public static func seal(_ plaintext: SecretBytes, key: SecretBytes, aad: [UInt8]) throws -> [UInt8] {
        let nonce = try KeyGenerator.publicRandomBytes(count: Self.nonceByteCount)
        return try plaintext.withUnsafeBytes { plaintext in
            try key.withUnsafeBytes { key in
                try nonce.withUnsafeBytes { nonce in
                    try aad.withUnsafeBytes { aad in
                        try Self.seal(plaintext: plaintext, key: key, nonce: nonce, aad: aad)
                    }
                }
            }
        }
    }

    /// Verifies and decrypts a box made by ``seal(_:key:aad:)``.
    ///
    /// - Parameters:
    ///   - sealed: `0x01 || nonce || ciphertext || tag`.
    ///   - key: The 32-byte key it was sealed under.
    ///   - aad: The same additional authenticated data.
    /// - Returns: The plaintext.
    /// - Throws: ``RootKeyError/authenticationFailed`` when the tag does not verify (wrong key, AAD
    ///   or bytes); ``RootKeyError/invalidCiphertext`` for a short box or an unknown version byte.
    public static func open(_ sealed: [UInt8], key: SecretBytes, aad: [UInt8]) throws -> SecretBytes {
        try sealed.withUnsafeBytes { sealed in
            try key.withUnsafeBytes { key in
                try aad.withUnsafeBytes { aad in
                    try Self.open(sealed: sealed, key: key, aad: aad)
                }
            }
        }
    }

    /// Seals with a given nonce. Internal: a caller-chosen nonce is for known-answer tests only.
    static func seal(
        plaintext: UnsafeRawBufferPointer,
        key: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer
    ) throws -> [UInt8] {
        try Self.checkKey(key)
        precondition(nonce.count == Self.nonceByteCount, "AES-256-GCM nonces are 12 bytes")
        let plaintextLength = try OpenSSL.int32Length(plaintext.count, "a GCM plaintext")
        let aadLength = try OpenSSL.int32Length(aad.count, "GCM additional data")
        let context = try CipherContext()
        try Self.initialize(context, encrypt: true, key: key, nonce: nonce)

        let total = Self.overhead + plaintext.count
        return try [UInt8](unsafeUninitializedCapacity: total) { output, initializedCount in
            output.initialize(repeating: 0)
            initializedCount = total
            output[0] = Self.formatVersion
            UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: output[1..<(1 + Self.nonceByteCount)]))
                .copyMemory(from: nonce)
            let body = output.baseAddress! + 1 + Self.nonceByteCount
            var written: Int32 = 0
            if aad.count > 0 {
                try aad.withUnsignedCharPointer { aad in
                    try OpenSSL.call("EVP_EncryptUpdate(aad)") {
                        EVP_EncryptUpdate(context.pointer, nil, &written, aad, aadLength)
                    }
                }
            }
            var produced = 0
            if plaintext.count > 0 {
                try plaintext.withUnsignedCharPointer { plaintext in
                    try OpenSSL.call("EVP_EncryptUpdate") {
                        EVP_EncryptUpdate(context.pointer, body, &written, plaintext, plaintextLength)
                    }
                }
                produced = Int(written)
            }
            try OpenSSL.call("EVP_EncryptFinal_ex") {
                EVP_EncryptFinal_ex(context.pointer, body + produced, &written)
            }
            produced += Int(written)
            precondition(produced == plaintext.count, "GCM output length differs from its input length")
            try OpenSSL.call("EVP_CIPHER_CTX_ctrl(GET_TAG)") {
                EVP_CIPHER_CTX_ctrl(context.pointer, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagByteCount), body + produced)
            }
        }
    }

    /// Opens a sealed box held anywhere in memory.
    static func open(
        sealed: UnsafeRawBufferPointer,
        key: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer
    ) throws -> SecretBytes {
        try Self.checkKey(key)
        guard sealed.count >= Self.overhead else {
            throw RootKeyError(
                .invalidCiphertext,
                reason: "an AES-256-GCM box has at least \(Self.overhead) bytes, got \(sealed.count)"
            )
        }
        guard sealed[0] == Self.formatVersion else {
            throw RootKeyError(.invalidCiphertext, reason: "unknown AES-256-GCM box version \(sealed[0])")
        }
        let nonce = UnsafeRawBufferPointer(rebasing: sealed[1..<(1 + Self.nonceByteCount)])
        let ciphertext = UnsafeRawBufferPointer(
            rebasing: sealed[(1 + Self.nonceByteCount)..<(sealed.count - Self.tagByteCount)]
        )
        var tag = Array(sealed[(sealed.count - Self.tagByteCount)...])
        let ciphertextLength = try OpenSSL.int32Length(ciphertext.count, "a GCM ciphertext")
        let aadLength = try OpenSSL.int32Length(aad.count, "GCM additional data")
        let context = try CipherContext()
        try Self.initialize(context, encrypt: false, key: key, nonce: nonce)

        return try SecretBytes(count: ciphertext.count) { output in
            var written: Int32 = 0
            if aad.count > 0 {
                try aad.withUnsignedCharPointer { aad in
                    try OpenSSL.call("EVP_DecryptUpdate(aad)") {
                        EVP_DecryptUpdate(context.pointer, nil, &written, aad, aadLength)
                    }
                }
            }
            let body = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
            var produced = 0
            if let body, ciphertext.count > 0 {
                try ciphertext.withUnsignedCharPointer { ciphertext in
                    try OpenSSL.call("EVP_DecryptUpdate") {
                        EVP_DecryptUpdate(context.pointer, body, &written, ciphertext, ciphertextLength)
                    }
                }
                produced = Int(written)
            }
            try tag.withUnsafeMutableBytes { tag in
                try OpenSSL.call("EVP_CIPHER_CTX_ctrl(SET_TAG)") {
                    EVP_CIPHER_CTX_ctrl(context.pointer, EVP_CTRL_GCM_SET_TAG, Int32(tag.count), tag.baseAddress)
                }
            }
            var finalBlock = [UInt8](repeating: 0, count: 16)
            try OpenSSL.call("EVP_DecryptFinal_ex", code: .authenticationFailed) {
                finalBlock.withUnsafeMutableBufferPointer { finalBlock in
                    EVP_DecryptFinal_ex(context.pointer, finalBlock.baseAddress, &written) > 0 ? 1 : 0
                }
            }
            precondition(produced + Int(written) == ciphertext.count, "GCM output length differs from its input")
        }
    }

    private static func checkKey(_ key: UnsafeRawBufferPointer) throws {
        guard key.count == Self.keyByteCount else {
            throw RootKeyError(.invalidArgument, reason: "AES-256-GCM needs a 32-byte key, got \(key.count) bytes")
        }
    }

    private static func initialize(
        _ context: CipherContext,
        encrypt: Bool,
        key: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer
    ) throws {
        let initialize = encrypt ? EVP_EncryptInit_ex : EVP_DecryptInit_ex
        try OpenSSL.call("EVP_CipherInit_ex(aes-256-gcm)") {
            initialize(context.pointer, EVP_aes_256_gcm(), nil, nil, nil)
        }
        try OpenSSL.call("EVP_CIPHER_CTX_ctrl(SET_IVLEN)") {
            EVP_CIPHER_CTX_ctrl(context.pointer, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceByteCount), nil)
        }
        try key.withUnsignedCharPointer { key in
            try nonce.withUnsignedCharPointer { nonce in
                try OpenSSL.call("EVP_CipherInit_ex(key, nonce)") {
                    initialize(context.pointer, nil, nil, key, nonce)
                }
            }
        }
    }
}
