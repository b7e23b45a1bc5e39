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

/// SHA-256 (`EVP_Digest` with `EVP_sha256`), for the KMIP Digest attribute of stored keys.
///
/// ```swift
/// let digest = try Digest.sha256(of: keyMaterial)   // 32 bytes
/// ```
public enum Digest {
    /// The SHA-256 digest of `bytes`.
    ///
    /// - Throws: ``RootKeyError/cryptoFailure`` when libcrypto fails.
    public static func sha256(of bytes: SecretBytes) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try Self.sha256($0) }
    }

    /// The SHA-256 digest of `bytes`.
    public static func sha256(of bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try Self.sha256($0) }
    }

    static func sha256(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        try input.withUnsignedCharPointer { data in
            try output.withUnsafeMutableBufferPointer { out in
                try OpenSSL.call("EVP_Digest") {
                    EVP_Digest(data, input.count, out.baseAddress, &length, EVP_sha256(), nil)
                }
            }
        }
        guard length == 32 else {
            throw RootKeyError(.cryptoFailure, reason: "EVP_Digest returned \(length) bytes for SHA-256")
        }
        return output
    }
}
