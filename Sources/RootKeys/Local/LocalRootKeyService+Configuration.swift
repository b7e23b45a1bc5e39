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

extension LocalRootKeyService {
    /// Where the Local provider keeps its files, where the master key comes from, and how it wraps.
    public struct Configuration: Sendable {
        /// The data directory; created (mode 0700) when missing. Holds `rootkeys.sealed` and, for
        /// ``MasterKeySource/environmentOrFile``, `master.key`.
        public var dataDirectory: String
        /// Where the master key comes from.
        public var masterKey: MasterKeySource
        /// The algorithm for new wraps. Unwrap reads the algorithm from each ciphertext, so changing
        /// it leaves existing ciphertexts readable; ``LocalRootKeyService/rewrap(_:rootKeyID:aad:)``
        /// converts them.
        public var wrapAlgorithm: WrapAlgorithm
        /// Where the sealed root keys are kept; `nil` is `rootkeys.sealed` in ``dataDirectory``.
        /// Nodes that share a store pass storage in that store.
        public var sealedStorage: (any LocalSealedKeyStorage)?

        public init(
            dataDirectory: String,
            masterKey: MasterKeySource = .environmentOrFile,
            wrapAlgorithm: WrapAlgorithm = .aes256GCM,
            sealedStorage: (any LocalSealedKeyStorage)? = nil
        ) {
            self.dataDirectory = dataDirectory
            self.masterKey = masterKey
            self.wrapAlgorithm = wrapAlgorithm
            self.sealedStorage = sealedStorage
        }
    }

    /// Where the 32-byte master key that seals `rootkeys.sealed` comes from.
    ///
    /// Its description never shows the key.
    public struct MasterKeySource: Sendable, CustomStringConvertible {
        enum Base: Sendable {
            case environmentOrFile
            case file(String)
            case encoded(String)
        }

        let base: Base

        /// `KEYSTORM_MASTER_KEY` (hex or base64 of 32 bytes) when it is set; otherwise
        /// `master.key` in the data directory, created with 32 random bytes (mode 0600) on first start.
        public static let environmentOrFile = MasterKeySource(base: .environmentOrFile)

        /// A key file at `path`, created with 32 random bytes (mode 0600) when missing. Refused when
        /// its mode is wider than 0600.
        public static func file(_ path: String) -> MasterKeySource { MasterKeySource(base: .file(path)) }

        /// The key itself, as 64 hex digits or base64 of 32 bytes (the format of `KEYSTORM_MASTER_KEY`).
        public static func encoded(_ text: String) -> MasterKeySource { MasterKeySource(base: .encoded(text)) }

        public var description: String {
            switch self.base {
            case .environmentOrFile: "environmentOrFile"
            case .file(let path): "file(\(path))"
            case .encoded: "encoded(<redacted>)"
            }
        }
    }

    /// How the Local provider wraps data keys under a root key.
    public struct WrapAlgorithm: Hashable, Sendable, CustomStringConvertible {
        /// The byte that names the algorithm in a wrapped key.
        public let rawValue: UInt8

        init?(rawValue: UInt8) {
            guard rawValue == 1 || rawValue == 2 else { return nil }
            self.rawValue = rawValue
        }

        private init(uncheckedRawValue: UInt8) { self.rawValue = uncheckedRawValue }

        /// AES-256-GCM with a random nonce and the caller's AAD (the default): 34 bytes of overhead.
        public static let aes256GCM = WrapAlgorithm(uncheckedRawValue: 1)
        /// AES-256 Key Wrap with Padding (RFC 5649) under a key derived from the root key and the
        /// caller's AAD: deterministic, 13 bytes of overhead for a 32-byte key.
        public static let aes256KWP = WrapAlgorithm(uncheckedRawValue: 2)

        public var description: String { self.rawValue == 1 ? "AES-256-GCM" : "AES-256-KWP" }
    }
}
