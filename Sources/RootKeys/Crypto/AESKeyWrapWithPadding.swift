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

/// AES Key Wrap with Padding (RFC 5649, NIST SP 800-38F "KWP") through OpenSSL's
/// `EVP_aes_*_wrap_pad`.
///
/// Deterministic and without a nonce: the output is the plaintext rounded up to 8 bytes plus 8
/// (40 bytes for a 32-byte key). It authenticates the key but takes no additional data; the
/// Local root-key service binds AAD by deriving a per-AAD wrapping key (see ``LocalRootKeyService``).
/// Keystorm wraps with 256-bit KEKs; 128- and 192-bit KEKs are accepted for interoperability and
/// for the RFC's own examples, which use a 192-bit KEK.
public enum AESKeyWrapWithPadding {
    /// Wraps `plaintext` (1 byte or more) under `kek` (16, 24 or 32 bytes).
    ///
    /// - Returns: The RFC 5649 ciphertext, `8 * ceil(n / 8) + 8` bytes.
    /// - Throws: ``RootKeyError/invalidArgument`` for an empty plaintext or a KEK of another length;
    ///   ``RootKeyError/cryptoFailure`` when OpenSSL fails.
    public static func wrap(_ plaintext: SecretBytes, kek: SecretBytes) throws -> [UInt8] {
        try plaintext.withUnsafeBytes { plaintext in
            try kek.withUnsafeBytes { kek in try Self.wrap(plaintext: plaintext, kek: kek) }
        }
    }

    /// Unwraps and checks an RFC 5649 ciphertext.
    ///
    /// - Returns: The key that was wrapped.
    /// - Throws: ``RootKeyError/authenticationFailed`` when the integrity check fails (wrong KEK or
    ///   modified bytes); ``RootKeyError/invalidCiphertext`` when the length is not a multiple of 8
    ///   of at least 16; ``RootKeyError/invalidArgument`` for a KEK of the wrong length.
    public static func unwrap(_ ciphertext: [UInt8], kek: SecretBytes) throws -> SecretBytes {
        try ciphertext.withUnsafeBytes { ciphertext in
            try kek.withUnsafeBytes { kek in try Self.unwrap(ciphertext: ciphertext, kek: kek) }
        }
    }

    static func wrap(plaintext: UnsafeRawBufferPointer, kek: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard plaintext.count > 0 else {
            throw RootKeyError(.invalidArgument, reason: "AES-KWP cannot wrap an empty key")
        }
        let inputLength = try OpenSSL.int32Length(plaintext.count, "a KWP plaintext")
        let context = try Self.context(encrypt: true, kek: kek)
        let total = (plaintext.count + 7) / 8 * 8 + 8
        return try [UInt8](unsafeUninitializedCapacity: total + 16) { output, initializedCount in
            output.initialize(repeating: 0)
            var written: Int32 = 0
            try plaintext.withUnsignedCharPointer { plaintext in
                try OpenSSL.call("EVP_EncryptUpdate(aes-wrap-pad)") {
                    EVP_EncryptUpdate(context.pointer, output.baseAddress, &written, plaintext, inputLength) > 0 ? 1 : 0
                }
            }
            var produced = Int(written)
            try OpenSSL.call("EVP_EncryptFinal_ex(aes-wrap-pad)") {
                EVP_EncryptFinal_ex(context.pointer, output.baseAddress! + produced, &written)
            }
            produced += Int(written)
            precondition(produced == total, "AES-KWP produced an unexpected length")
            initializedCount = total
        }
    }

    static func unwrap(ciphertext: UnsafeRawBufferPointer, kek: UnsafeRawBufferPointer) throws -> SecretBytes {
        guard ciphertext.count >= 16, ciphertext.count % 8 == 0 else {
            throw RootKeyError(
                .invalidCiphertext,
                reason: "an AES-KWP ciphertext is a multiple of 8 bytes of at least 16, got \(ciphertext.count)"
            )
        }
        let inputLength = try OpenSSL.int32Length(ciphertext.count, "a KWP ciphertext")
        let context = try Self.context(encrypt: false, kek: kek)
        // OpenSSL writes the padded plaintext; the scratch buffer is wiped when it goes.
        var plaintextLength = 0
        let scratch = try SecretBytes(count: ciphertext.count + 16) { output in
            var written: Int32 = 0
            let base = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
            try ciphertext.withUnsignedCharPointer { ciphertext in
                try OpenSSL.call("EVP_DecryptUpdate(aes-wrap-pad)", code: .authenticationFailed) {
                    EVP_DecryptUpdate(context.pointer, base, &written, ciphertext, inputLength) > 0 ? 1 : 0
                }
            }
            plaintextLength = Int(written)
            try OpenSSL.call("EVP_DecryptFinal_ex(aes-wrap-pad)", code: .authenticationFailed) {
                EVP_DecryptFinal_ex(context.pointer, base + plaintextLength, &written) > 0 ? 1 : 0
            }
            plaintextLength += Int(written)
        }
        guard plaintextLength > 0, plaintextLength <= ciphertext.count - 8 else {
            throw RootKeyError(.authenticationFailed, reason: "AES-KWP unwrap produced no valid key")
        }
        return scratch.withUnsafeBytes { scratch in
            SecretBytes(UnsafeRawBufferPointer(rebasing: scratch[0..<plaintextLength]))
        }
    }

    private static func context(encrypt: Bool, kek: UnsafeRawBufferPointer) throws -> CipherContext {
        let cipher: OpaquePointer?
        switch kek.count {
        case 16: cipher = EVP_aes_128_wrap_pad()
        case 24: cipher = EVP_aes_192_wrap_pad()
        case 32: cipher = EVP_aes_256_wrap_pad()
        default:
            throw RootKeyError(.invalidArgument, reason: "AES-KWP needs a 16-, 24- or 32-byte KEK, got \(kek.count)")
        }
        let context = try CipherContext()
        // Wrap modes refuse to run without this flag (a guard against using them as a general cipher).
        EVP_CIPHER_CTX_set_flags(context.pointer, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW)
        let initialize = encrypt ? EVP_EncryptInit_ex : EVP_DecryptInit_ex
        try kek.withUnsignedCharPointer { kek in
            try OpenSSL.call("EVP_CipherInit_ex(aes-wrap-pad)") {
                initialize(context.pointer, cipher, nil, kek, nil)
            }
        }
        return context
    }
}
