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

/// HKDF-Expand with SHA-256 (RFC 5869 §2.3) for one 32-byte output block.
///
/// The input is a uniformly random 32-byte key, which RFC 5869 §3.3 allows to be used as the
/// pseudorandom key directly, so the Extract step is skipped. With `L = 32` Expand is a single HMAC:
/// `OKM = T(1) = HMAC-SHA256(PRK, info || 0x01)`.
enum HKDF {
    static let outputByteCount = 32

    /// Derives a 32-byte key from `prk` for the context `info`.
    static func expandSHA256(prk: UnsafeRawBufferPointer, info: [UInt8]) throws -> SecretBytes {
        guard prk.count >= 32 else {
            throw RootKeyError(.invalidArgument, reason: "HKDF-Expand needs a 32-byte pseudorandom key")
        }
        let message = info + [0x01]
        ERR_clear_error()
        return try SecretBytes(count: Self.outputByteCount) { output in
            var written = 0
            let result = message.withUnsafeBufferPointer { message in
                EVP_Q_mac(
                    nil,
                    "HMAC",
                    nil,
                    "SHA256",
                    nil,
                    prk.baseAddress,
                    prk.count,
                    message.baseAddress,
                    message.count,
                    output.baseAddress?.assumingMemoryBound(to: UInt8.self),
                    output.count,
                    &written
                )
            }
            guard result != nil, written == Self.outputByteCount else {
                throw RootKeyError(
                    .cryptoFailure,
                    reason: "EVP_Q_mac(HMAC-SHA256) failed: \(OpenSSL.drainErrorQueue())"
                )
            }
        }
    }
}
