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

import KMIPCodec
import KMIPModel
public import KeyStore
public import RootKeys

/// Everything the KMIP operations need: the store, the root-key service, the audit log, a clock
/// and the configuration. One instance serves every connection.
public struct KMIPServerCore: Sendable {
    public let store: any KeyStore
    public let rootKeys: any RootKeyService
    public let audit: (any AuditSink)?
    public let configuration: KMIPServerConfiguration
    /// Seconds since the epoch.
    public let clock: @Sendable () -> Int64
    /// New unique identifiers (UUIDs, valid on every node).
    public let makeIdentifier: @Sendable () -> String
    /// The key cache and unwrap batcher in front of ``rootKeys`` (built on the same service), or
    /// `nil` to send every unwrap straight to ``rootKeys``.
    public let keyAccess: KeyAccess?
    /// Refuses operations that grow the store while the data disk is below its reserve; `nil`
    /// never refuses.
    public let storageReserve: StorageReserve?
    /// Where store timings and errors are reported: the process-wide factory, or the one a
    /// ``BatchExecutor`` was given.
    var metrics: KMIPMetrics = .shared
    /// Queues this process's concurrent edits of one object (see ``edit(_:_:_:)``).
    let edits = EditSerializer()

    public init(
        store: any KeyStore,
        rootKeys: any RootKeyService,
        audit: (any AuditSink)?,
        configuration: KMIPServerConfiguration = KMIPServerConfiguration(),
        clock: @escaping @Sendable () -> Int64,
        makeIdentifier: @escaping @Sendable () -> String,
        keyAccess: KeyAccess? = nil,
        storageReserve: StorageReserve? = nil
    ) {
        self.store = store
        self.rootKeys = rootKeys
        self.audit = audit
        self.configuration = configuration
        self.clock = clock
        self.makeIdentifier = makeIdentifier
        self.keyAccess = keyAccess
        self.storageReserve = storageReserve
    }
}

// MARK: - Object access, scoped by tenant

extension KMIPServerCore {
    /// Runs a store call, turning its failures into General Failure without leaking details.
    /// Times it as `keystorm_store_duration_seconds{operation}`; a failure other than a lost
    /// optimistic-revision race counts in `keystorm_store_errors_total{operation}`.
    func storage<T>(_ what: String, operation: String = "query", _ body: () async throws -> T) async throws(KMIPError) -> T {
        let start = ContinuousClock.now
        do {
            let value = try await body()
            self.metrics.store(operation, failed: false, elapsed: ContinuousClock.now - start)
            return value
        } catch KeyStoreError.conflict {
            // Another request changed the object first: the store did its job.
            self.metrics.store(operation, failed: false, elapsed: ContinuousClock.now - start)
            throw KMIPError(.generalFailure, "concurrent update while \(what); retry")
        } catch KeyStoreError.unavailable {
            // A shared store that is down or restarting: say so, so that clients retry (vCenter
            // goes on to the next server of its key provider).
            self.metrics.store(operation, failed: true, elapsed: ContinuousClock.now - start)
            throw KMIPError(.generalFailure, "\(what) failed: the key store is unavailable; retry")
        } catch {
            self.metrics.store(operation, failed: true, elapsed: ContinuousClock.now - start)
            throw KMIPError(.generalFailure, "\(what) failed in the key store\(Self.diskFullNote(error))")
        }
    }

    /// ": the server's data disk is full" when a store error says so; the error's own text (paths,
    /// SQLite codes) stays in the server's log, never in an answer.
    static func diskFullNote(_ error: any Error) -> String {
        guard let error = error as? KeyStoreError, error.reason.contains("is full)") else { return "" }
        return ": the server's data disk is full"
    }

    /// The tenant's object `uid`; another tenant's object is Item Not Found.
    func load(_ uid: String, _ context: RequestContext) async throws(KMIPError) -> ObjectRecord {
        let stored = try await self.storage("reading \(uid)", operation: "read") {
            try await self.store.object(tenantID: context.tenantID, uniqueIdentifier: uid)
        }
        guard let stored else { throw KMIPError.itemNotFound(uid) }
        return try ObjectRecord(stored: stored)
    }

    /// How many times ``edit(_:_:_:)`` applies a change before it gives up on an object other
    /// writers keep changing. Edits in this process take turns, so only a writer elsewhere (another
    /// Keystorm process on the same store) or an internal update (clearing Fresh, storing a
    /// re-wrapped key) can make an attempt lose.
    static let editAttempts = 16

    /// Applies `change` to `record` and writes it, durable when this returns.
    ///
    /// Edits of one object in this process take turns (``EditSerializer``); one that waited for
    /// another re-reads the object first. When the object still changed since it was read (an
    /// optimistic-revision conflict), it re-reads the object and applies `change` again, which
    /// re-checks every rule the change checks, at most ``editAttempts`` times in all, with a
    /// short random pause between attempts. A lost race is not a store failure and is not counted
    /// as one.
    ///
    /// - Parameters:
    ///   - record: The object as the request read it (through ``target(_:_:_:)``).
    ///   - context: The request's tenant, version and time.
    ///   - change: Edits the object and returns the operation's result; it may run several times,
    ///     each time on a fresh copy.
    /// - Returns: The result of the `change` that was written.
    /// - Throws: What `change` throws; General Failure "concurrent update of <uid>; retry" when
    ///   every attempt lost; General Failure for a store failure.
    func edit<R>(
        _ record: ObjectRecord,
        _ context: RequestContext,
        _ change: (inout ObjectRecord) async throws(KMIPError) -> R
    ) async throws(KMIPError) -> R {
        let uid = record.uniqueIdentifier
        return try await self.edits.exclusively(tenantID: context.tenantID, uniqueIdentifier: uid) {
            waited throws(KMIPError) in
            var scratch = BatchState()
            var current = waited ? try await self.target(.text(uid), context, &scratch) : record
            for attempt in 1...Self.editAttempts {
                var edited = current
                let result = try await change(&edited)
                if try await self.saveIfUnchanged(edited) { return result }
                guard attempt < Self.editAttempts else { break }
                // Up to a millisecond per attempt so far; Task.sleep suspends, it does not block.
                try? await Task.sleep(for: .microseconds(Int.random(in: 0...(attempt * 1_000))))
                current = try await self.target(.text(uid), context, &scratch)
            }
            throw KMIPError(.generalFailure, "concurrent update of \(uid); retry")
        }
    }

    /// Writes a changed object unless another request changed it since it was read: `false` then.
    func saveIfUnchanged(_ record: ObjectRecord) async throws(KMIPError) -> Bool {
        let stored = record.encodedForStore()
        let start = ContinuousClock.now
        do {
            try await self.store.update(stored, expectedRevision: record.stored.revision)
            self.metrics.store("update", failed: false, elapsed: ContinuousClock.now - start)
            return true
        } catch KeyStoreError.conflict {
            self.metrics.store("update", failed: false, elapsed: ContinuousClock.now - start)
            return false
        } catch {
            self.metrics.store("update", failed: true, elapsed: ContinuousClock.now - start)
            throw KMIPError(.generalFailure, "updating \(record.uniqueIdentifier) failed in the key store")
        }
    }

    /// Clears Fresh once an object has been served (KMIP 1.4 §3.34). Many hosts may fetch a new
    /// key at once (vSAN: every host asks for its cluster's keys); the first write wins and the
    /// others, finding Fresh already cleared, have nothing to do. It never fails the Get.
    func markServed(_ record: ObjectRecord, _ context: RequestContext) async {
        var current = record
        for _ in 0..<4 {
            guard case .boolean(true)? = current.first(.standard(.fresh))?.value else { return }
            current.set(.fresh, .boolean(false))
            guard let saved = try? await self.saveIfUnchanged(current), !saved else { return }
            guard let fresh = try? await self.load(record.uniqueIdentifier, context) else { return }
            current = fresh
        }
    }

    /// Inserts a new object; durable when this returns.
    func insert(_ record: ObjectRecord) async throws(KMIPError) {
        let stored = record.encodedForStore()
        try await self.storage("inserting \(record.uniqueIdentifier)", operation: "insert") {
            try await self.store.insert(stored)
        }
    }

    /// The tenant's root key.
    func tenant(_ context: RequestContext) async throws(KMIPError) -> Tenant {
        let tenant = try await self.storage("reading tenant", operation: "tenant") { try await self.store.tenant(id: context.tenantID) }
        guard let tenant else { throw KMIPError(.permissionDenied, "the client's tenant does not exist") }
        return tenant
    }

    /// The additional data that binds wrapped key material to its tenant and object.
    static func associatedData(tenantID: String, uniqueIdentifier: String) -> [UInt8] {
        Array("keystorm/v1".utf8) + [0] + Array(tenantID.utf8) + [0] + Array(uniqueIdentifier.utf8)
    }

    /// Wraps `material` under the tenant's root key for object `uid`.
    func wrap(_ material: SecretBytes, uid: String, tenant: Tenant) async throws(KMIPError) -> WrappedKeyRecord {
        do {
            let wrapped = try await self.rootKeys.wrap(
                material,
                rootKeyID: tenant.rootKey.keyID,
                aad: Self.associatedData(tenantID: tenant.id, uniqueIdentifier: uid)
            )
            return WrappedKeyRecord(
                ciphertext: wrapped.ciphertext,
                rootKeyID: tenant.rootKey.keyID,
                rootKeyVersion: wrapped.rootKeyVersion
            )
        } catch {
            throw Self.rootKeyFailure(error, tenantID: tenant.id, uid: uid, wrapping: true)
        }
    }

    /// Unwraps the key material of `record`: from the key cache when ``keyAccess`` is set and has
    /// it, otherwise through the unwrap batcher (or straight from ``rootKeys`` without one).
    func unwrap(_ record: ObjectRecord) async throws(KMIPError) -> SecretBytes {
        guard let wrapped = record.stored.wrappedKey else {
            throw KMIPError(.keyValueNotPresent, "object \(record.uniqueIdentifier) has no key material")
        }
        do {
            let ciphertext = WrappedKey(ciphertext: wrapped.ciphertext, rootKeyVersion: wrapped.rootKeyVersion)
            let aad = Self.associatedData(tenantID: record.stored.tenantID, uniqueIdentifier: record.uniqueIdentifier)
            let result: UnwrapResult
            if let keyAccess = self.keyAccess {
                let key = KeyCache.Key(tenantID: record.stored.tenantID, uniqueIdentifier: record.uniqueIdentifier)
                result = try await keyAccess.unwrap(
                    UnwrapRequest(key: key, wrapped: ciphertext, rootKeyID: wrapped.rootKeyID, aad: aad)
                )
            } else {
                result = try await self.rootKeys.unwrap(ciphertext, rootKeyID: wrapped.rootKeyID, aad: aad)
            }
            if let rewrapped = result.rewrapped {
                await self.storeRewrapped(rewrapped, of: record)
            }
            return result.plaintext
        } catch {
            throw Self.rootKeyFailure(error, tenantID: record.stored.tenantID, uid: record.uniqueIdentifier, wrapping: false)
        }
    }

    /// Keeps the ciphertext a root-key service re-wrapped under its current version during an
    /// unwrap (Key Protect does after a rotation), so the next unwrap and the re-wrap job need not.
    /// An optimistic update: when the object changed since it was read (another request, or the
    /// re-wrap job), this one is skipped. Never fails the read.
    func storeRewrapped(_ rewrapped: WrappedKey, of record: ObjectRecord) async {
        guard let current = record.stored.wrappedKey, rewrapped.rootKeyVersion > current.rootKeyVersion else { return }
        var stored = record.stored
        stored.wrappedKey = WrappedKeyRecord(
            ciphertext: rewrapped.ciphertext,
            rootKeyID: current.rootKeyID,
            rootKeyVersion: rewrapped.rootKeyVersion
        )
        try? await self.store.update(stored, expectedRevision: record.stored.revision)
    }

    /// The KMIP error for a failed wrap or unwrap: a root key deleted or disabled is Permission
    /// Denied (the tenant's root key forbids the operation), ciphertext that does not authenticate
    /// is Cryptographic Failure, and everything else (the service unreachable, slow, rate limited,
    /// past the batcher's deadline) is General Failure "root key service unavailable".
    static func rootKeyFailure(_ error: any Error, tenantID: String, uid: String, wrapping: Bool) -> KMIPError {
        switch error {
        case RootKeyError.deleted:
            return KMIPError(.permissionDenied, "root key of tenant \(tenantID) is deleted: key material is shredded")
        case RootKeyError.disabled:
            return KMIPError(.permissionDenied, "root key of tenant \(tenantID) is disabled")
        case RootKeyError.notFound:
            return KMIPError(.permissionDenied, "root key of tenant \(tenantID) does not exist in the root-key service")
        case RootKeyError.authenticationFailed, RootKeyError.invalidCiphertext:
            return KMIPError(
                .cryptographicFailure,
                "the key material of \(uid) does not authenticate under the root key of tenant \(tenantID)"
            )
        default:
            return KMIPError(
                .generalFailure,
                "root key service unavailable: the key could not be \(wrapping ? "wrapped" : "unwrapped")"
            )
        }
    }

    /// Forgets the cached key material of `record` (after a Revoke or Destroy), so that the next
    /// Get does not come from the cache.
    func forgetKeyMaterial(_ record: ObjectRecord) {
        self.keyAccess?.purge(KeyCache.Key(tenantID: record.stored.tenantID, uniqueIdentifier: record.uniqueIdentifier))
    }
}
