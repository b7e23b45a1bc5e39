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

/// `rootkeys.sealed`: the Local provider's root keys, sealed under the master key.
///
/// The file is `"KSRS" || 0x01 || AES-256-GCM box` (see ``AES256GCM``) of the set that
/// ``LocalRootKeySetCodec`` serializes. The AAD is the 5-byte header followed by
/// `"keystorm rootkeys.sealed"`, so neither the header nor a box sealed for another purpose under
/// the same master key is accepted.
enum LocalSealedKeyFile {
    static let fileName = "rootkeys.sealed"
    static let header: [UInt8] = Array("KSRS".utf8) + [1]
    private static let aad = Self.header + Array("keystorm rootkeys.sealed".utf8)

    /// Serializes and seals `keys`; the serialized plaintext is wiped when this returns.
    static func seal(_ keys: [String: LocalRootKey], masterKey: SecretBytes) throws -> [UInt8] {
        let plaintext = LocalRootKeySetCodec.encode(keys)
        return Self.header + (try AES256GCM.seal(plaintext, key: masterKey, aad: Self.aad))
    }

    /// Opens a sealed file and returns the serialized set (for ``open(_:masterKey:)`` and tests).
    ///
    /// - Throws: ``RootKeyError/wrongMasterKey`` when the box does not authenticate,
    ///   ``RootKeyError/corruptKeyFile`` when the file is not a sealed root-key file.
    static func openPlaintext(_ file: [UInt8], masterKey: SecretBytes) throws -> SecretBytes {
        guard file.count > Self.header.count, Array(file.prefix(Self.header.count)) == Self.header else {
            throw RootKeyError(.corruptKeyFile, reason: "\(Self.fileName) is not a Keystorm sealed root-key file (v1)")
        }
        do {
            return try file.withUnsafeBytes { file in
                try masterKey.withUnsafeBytes { masterKey in
                    try Self.aad.withUnsafeBytes { aad in
                        try AES256GCM.open(
                            sealed: UnsafeRawBufferPointer(rebasing: file[Self.header.count...]),
                            key: masterKey,
                            aad: aad
                        )
                    }
                }
            }
        } catch RootKeyError.authenticationFailed {
            throw RootKeyError(
                .wrongMasterKey,
                reason: "\(Self.fileName) does not open with this master key: the master key is not the one "
                    + "it was sealed with (check \(LocalMasterKey.fileName) or \(LocalMasterKey.environmentVariable)), "
                    + "or the file was modified"
            )
        } catch RootKeyError.invalidCiphertext {
            throw RootKeyError(.corruptKeyFile, reason: "\(Self.fileName) is truncated or has an unknown box version")
        }
    }

    /// Opens a sealed file and parses the set.
    static func open(_ file: [UInt8], masterKey: SecretBytes) throws -> [String: LocalRootKey] {
        try LocalRootKeySetCodec.decode(Self.openPlaintext(file, masterKey: masterKey))
    }
}
