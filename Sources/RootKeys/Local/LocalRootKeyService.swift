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

import Synchronization

/// The embedded default root-key service: root keys in a sealed file in the data directory.
///
/// Root keys (id → versions of 32 random bytes, state, label) are held in memory as ``SecretBytes``
/// and at rest in `rootkeys.sealed`, sealed with AES-256-GCM under a master key that comes from
/// `KEYSTORM_MASTER_KEY` or a mode-0600 `master.key` (see ``MasterKeySource``).
///
/// - Wrap and unwrap are pure CPU work on the calling task: they take the key under a `Mutex` and
///   run OpenSSL outside it. A wrapped key is `algorithm (1 byte) || root-key version (4 bytes,
///   big-endian) || payload`, so unwrap finds the right version after any number of rotations.
///   With ``WrapAlgorithm/aes256GCM`` the payload is an ``AES256GCM`` box whose AAD is the 5-byte
///   header followed by the caller's AAD; with ``WrapAlgorithm/aes256KWP`` it is RFC 5649 under
///   `HKDF-Expand-SHA256(root key, "keystorm/rootkeys/local/kwp/v1" || 0x00 || header || AAD)`.
/// - Create, rotate, delete, disable and enable run one at a time on a serial I/O queue: apply the
///   change to a copy, write the sealed file atomically (temporary file, fsync, rename, fsync of the
///   directory), then publish the copy. A change that fails to persist is not applied.
/// - Delete removes the key's material from memory and from the sealed file; each buffer is zeroed
///   when the last operation using it finishes. Later unwraps throw ``RootKeyError/deleted``.
///
/// Several processes may share a data directory (a server and the `keystorm` CLI): changes hold
/// an exclusive lock on `rootkeys.lock` and start from the file on disk, and ``refresh()`` (or an
/// unknown key id) reloads what others wrote.
public final class LocalRootKeyService: RootKeyService {
    /// The configuration it was opened with.
    public let configuration: Configuration
    public var providerName: String { "local" }

    private let keys: Mutex<[String: LocalRootKey]>
    private let masterKey: SecretBytes
    private let storage: any LocalSealedKeyStorage
    /// Changes stored by this process, counted inside the storage's lock, so in the order they
    /// were stored; and the newest of them published in ``keys`` (read and written under its
    /// lock). A change whose publication comes late never replaces a newer set, and a refresh that
    /// raced a change publishes nothing (the next refresh reads again).
    private let changesStored = Atomic<UInt64>(0)
    private let changesPublished = Atomic<UInt64>(0)

    private init(
        configuration: Configuration,
        keys: [String: LocalRootKey],
        masterKey: SecretBytes,
        storage: any LocalSealedKeyStorage
    ) {
        self.configuration = configuration
        self.keys = Mutex(keys)
        self.masterKey = masterKey
        self.storage = storage
    }

    /// Opens (or on first start creates) the root keys in `configuration.dataDirectory`.
    ///
    /// - Throws: ``RootKeyError/insecurePermissions`` when `master.key` is readable by others,
    ///   ``RootKeyError/invalidMasterKey`` when the master key is malformed or missing while root keys
    ///   exist, ``RootKeyError/wrongMasterKey`` when `rootkeys.sealed` does not open with it,
    ///   ``RootKeyError/corruptKeyFile`` and ``RootKeyError/io``.
    public static func open(_ configuration: Configuration) async throws -> LocalRootKeyService {
        let storage = configuration.sealedStorage ?? LocalSealedKeyFileStorage(directory: configuration.dataDirectory)
        let io = SerialIOQueue(label: "keystorm.rootkeys.local.open")
        let existing = try await storage.read()
        let masterKey = try await io.run {
            try FileSystem.createDirectory(configuration.dataDirectory)
            return try Self.loadMasterKey(configuration, sealed: existing == nil ? nil : storage.location)
        }
        let keys: [String: LocalRootKey]
        if let existing {
            keys = try LocalSealedKeyFile.open(existing, masterKey: masterKey)
        } else {
            // First start: store the empty set, which pairs the storage with this master key (or
            // open the set another node stored meanwhile).
            let stored = try await storage.update { current in
                let sealed = try current ?? LocalSealedKeyFile.seal([:], masterKey: masterKey)
                return (sealed, sealed)
            }
            keys = try LocalSealedKeyFile.open(stored, masterKey: masterKey)
        }
        return LocalRootKeyService(configuration: configuration, keys: keys, masterKey: masterKey, storage: storage)
    }

    public func createRootKey(label: String) async throws -> RootKeyHandle {
        guard label.utf8.count <= 1024 else {
            throw RootKeyError(.invalidArgument, reason: "a root-key label is at most 1024 bytes of UTF-8")
        }
        return try await self.mutate { keys in
            let id = try KeyGenerator.uuidString()
            let material = try KeyGenerator.randomBytes(count: LocalRootKeySetCodec.keyByteCount)
            keys[id] = LocalRootKey(id: id, label: label, state: .active, currentVersion: 1, versions: [1: material])
            return RootKeyHandle(keyID: id, version: 1)
        }
    }

    public func wrap(_ plaintext: SecretBytes, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey {
        guard plaintext.count > 0 else {
            throw RootKeyError(.invalidArgument, reason: "cannot wrap an empty key")
        }
        let (version, key) = try await self.retryingUnknownKey {
            try self.keys.withLock { try Self.usableKey(in: $0, id: rootKeyID, version: nil) }
        }
        let header = LocalWrapEnvelope.Header(algorithm: self.configuration.wrapAlgorithm, version: version)
        let ciphertext = try LocalWrapEnvelope.seal(plaintext, key: key, header: header, aad: aad)
        return WrappedKey(ciphertext: ciphertext, rootKeyVersion: version)
    }

    /// Unwraps a ciphertext made by any version of `rootKeyID`. Never re-wraps on the way
    /// (`rewrapped` is nil); use ``rewrap(_:rootKeyID:aad:)``.
    ///
    /// - Throws: ``RootKeyError/notFound``, ``RootKeyError/deleted``, ``RootKeyError/disabled``;
    ///   ``RootKeyError/authenticationFailed`` for a wrong AAD or modified bytes;
    ///   ``RootKeyError/invalidCiphertext`` for a malformed ciphertext, one whose version differs
    ///   from `wrapped.rootKeyVersion`, or a version the key never had.
    public func unwrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> UnwrapResult {
        let (header, key, _) = try await self.retryingUnknownKey { try self.lookUp(wrapped, rootKeyID: rootKeyID) }
        let plaintext = try LocalWrapEnvelope.open(wrapped.ciphertext, header: header, key: key, aad: aad)
        return UnwrapResult(plaintext: plaintext)
    }

    /// Returns `wrapped` unchanged when it already uses the current version and the configured
    /// algorithm (after checking that it unwraps); otherwise unwraps it and wraps it again under the
    /// current version.
    public func rewrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey {
        let (header, key, current) = try self.lookUp(wrapped, rootKeyID: rootKeyID)
        let plaintext = try LocalWrapEnvelope.open(wrapped.ciphertext, header: header, key: key, aad: aad)
        let target = LocalWrapEnvelope.Header(algorithm: self.configuration.wrapAlgorithm, version: current.version)
        if header == target { return wrapped }
        let ciphertext = try LocalWrapEnvelope.seal(plaintext, key: current.key, header: target, aad: aad)
        return WrappedKey(ciphertext: ciphertext, rootKeyVersion: target.version)
    }

    public func rotate(rootKeyID: String) async throws -> RootKeyHandle {
        try await self.mutate { keys in
            var key = try Self.usableRecord(in: keys, id: rootKeyID)
            let version = key.currentVersion + 1
            key.versions[version] = try KeyGenerator.randomBytes(count: LocalRootKeySetCodec.keyByteCount)
            key.currentVersion = version
            keys[rootKeyID] = key
            return RootKeyHandle(keyID: rootKeyID, version: version)
        }
    }

    /// Crypto-shreds the key: removes every version's material from memory and from the sealed file.
    /// The id stays, in state ``RootKeyState/deleted``. Deleting a deleted key does nothing.
    public func delete(rootKeyID: String) async throws {
        try await self.mutate { keys in
            guard var key = keys[rootKeyID] else { throw Self.notFound(rootKeyID) }
            key.state = .deleted
            key.versions = [:]
            keys[rootKeyID] = key
        }
    }

    public func state(rootKeyID: String) async throws -> RootKeyState {
        try self.keys.withLock { keys in
            guard let key = keys[rootKeyID] else { throw Self.notFound(rootKeyID) }
            return key.state
        }
    }

    /// Makes the key unusable until ``enable(rootKeyID:)``: wraps and unwraps throw
    /// ``RootKeyError/disabled``. The material is kept.
    public func disable(rootKeyID: String) async throws {
        try await self.setState(.disabled, rootKeyID: rootKeyID)
    }

    /// Makes a disabled key usable again.
    public func enable(rootKeyID: String) async throws {
        try await self.setState(.active, rootKeyID: rootKeyID)
    }

    /// The id, label, state and current version of one root key.
    public func info(rootKeyID: String) throws -> RootKeyInfo {
        try self.keys.withLock { keys in
            guard let key = keys[rootKeyID] else { throw Self.notFound(rootKeyID) }
            return Self.info(key)
        }
    }

    /// Every root key, deleted ones included, sorted by id.
    public func allRootKeys() -> [RootKeyInfo] {
        self.keys.withLock { keys in keys.values.map(Self.info).sorted { $0.keyID < $1.keyID } }
    }
}

extension LocalRootKeyService {
    private func setState(_ state: RootKeyState, rootKeyID: String) async throws {
        try await self.mutate { keys in
            guard var key = keys[rootKeyID] else { throw Self.notFound(rootKeyID) }
            guard key.state != .deleted else { throw Self.deleted(rootKeyID) }
            key.state = state
            keys[rootKeyID] = key
        }
    }

    /// Applies `change` to a copy of the keys as stored now, persists the copy, then publishes it.
    private func mutate<Result: Sendable>(
        _ change: @escaping @Sendable (inout [String: LocalRootKey]) throws -> Result
    ) async throws -> Result {
        // Another process or node (the `keystorm` CLI beside a running server, or a node sharing
        // the store) may change the set too: start from what is stored, under its lock.
        let masterKey = self.masterKey
        let fallback = self.keys.withLock { $0 }
        let (keys, result, stamp) = try await self.storage.update { stored in
            var keys = try stored.map { try LocalSealedKeyFile.open($0, masterKey: masterKey) } ?? fallback
            let result = try change(&keys)
            let sealed = try LocalSealedKeyFile.seal(keys, masterKey: masterKey)
            return (sealed, (keys, result, self.changesStored.add(1, ordering: .sequentiallyConsistent).newValue))
        }
        self.keys.withLock { published in
            guard stamp > self.changesPublished.load(ordering: .sequentiallyConsistent) else { return }
            published = keys
            self.changesPublished.store(stamp, ordering: .sequentiallyConsistent)
        }
        return result
    }

    /// The lock file that serialises changes to `rootkeys.sealed` across processes.
    static let lockFileName = "rootkeys.lock"

    /// Re-reads the stored set, so that root keys created, rotated, disabled or deleted by another
    /// process (the `keystorm` CLI) or node take effect here. A deleted key's material leaves memory.
    public func refresh() async throws {
        let changesBefore = self.changesStored.load(ordering: .sequentiallyConsistent)
        guard let sealed = try await self.storage.read() else { return }
        let keys = try LocalSealedKeyFile.open(sealed, masterKey: self.masterKey)
        self.keys.withLock { published in
            // A change of this process stored meanwhile may be newer than what was read.
            guard self.changesStored.load(ordering: .sequentiallyConsistent) == changesBefore else { return }
            published = keys
        }
    }

    /// Runs `body`; when it fails because a root key is unknown here, refreshes from disk once and
    /// retries (the key may have been created by another process).
    private func retryingUnknownKey<T>(_ body: () throws -> T) async throws -> T {
        do {
            return try body()
        } catch RootKeyError.notFound {
            try await self.refresh()
            return try body()
        }
    }

    /// The header of `wrapped`, the key version it names, and the current version, under one lock.
    private func lookUp(
        _ wrapped: WrappedKey,
        rootKeyID: String
    ) throws -> (LocalWrapEnvelope.Header, SecretBytes, current: (version: Int, key: SecretBytes)) {
        try self.keys.withLock { keys in
            let current = try Self.usableKey(in: keys, id: rootKeyID, version: nil)
            let header = try LocalWrapEnvelope.parseHeader(wrapped.ciphertext)
            guard header.version == wrapped.rootKeyVersion else {
                throw RootKeyError(
                    .invalidCiphertext,
                    reason: "the ciphertext names root-key version \(header.version), "
                        + "the wrapped key says \(wrapped.rootKeyVersion)"
                )
            }
            let (_, key) = try Self.usableKey(in: keys, id: rootKeyID, version: header.version)
            return (header, key, current)
        }
    }

    private static func usableRecord(in keys: [String: LocalRootKey], id: String) throws -> LocalRootKey {
        guard let key = keys[id] else { throw Self.notFound(id) }
        switch key.state {
        case .active: return key
        case .disabled: throw RootKeyError(.disabled, reason: "root key \(id) is disabled")
        case .deleted: throw Self.deleted(id)
        }
    }

    private static func usableKey(
        in keys: [String: LocalRootKey],
        id: String,
        version: Int?
    ) throws -> (version: Int, key: SecretBytes) {
        let record = try Self.usableRecord(in: keys, id: id)
        let version = version ?? record.currentVersion
        guard let material = record.versions[version] else {
            throw RootKeyError(.invalidCiphertext, reason: "root key \(id) has no version \(version)")
        }
        return (version, material)
    }

    /// - Parameter sealed: Where the sealed root keys already are, if they exist.
    private static func loadMasterKey(_ configuration: Configuration, sealed: String?) throws -> SecretBytes {
        switch configuration.masterKey.base {
        case .encoded(let text):
            return try LocalMasterKey.decode(text.utf8, source: "the configured master key")
        case .file(let path):
            return try LocalMasterKey.loadOrCreate(path: path, sealed: sealed)
        case .environmentOrFile:
            if let text = LocalMasterKey.fromEnvironment() {
                return try LocalMasterKey.decode(text.utf8, source: LocalMasterKey.environmentVariable)
            }
            let path = Self.path(configuration.dataDirectory, LocalMasterKey.fileName)
            return try LocalMasterKey.loadOrCreate(path: path, sealed: sealed)
        }
    }

    private static func info(_ key: LocalRootKey) -> RootKeyInfo {
        RootKeyInfo(keyID: key.id, label: key.label, state: key.state, currentVersion: key.currentVersion)
    }

    private static func path(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    private static func notFound(_ id: String) -> RootKeyError {
        RootKeyError(.notFound, reason: "no root key \(id)")
    }

    private static func deleted(_ id: String) -> RootKeyError {
        RootKeyError(.deleted, reason: "root key \(id) was deleted; everything wrapped under it is shredded")
    }
}
