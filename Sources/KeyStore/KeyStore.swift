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

/// Where Keystorm keeps tenants, their allowed clients, their root-key references and their
/// managed objects.
///
/// Key material is never given to a store in the clear: a StoredObject holds it wrapped by the
/// tenant's root key. Every mutating call returns only once the change is durable (for SQLite:
/// committed with `synchronous=FULL` in WAL mode), so an acknowledged KMIP Create survives a crash.
/// Implementations never block the cooperative thread pool.
///
/// Objects are always addressed within a tenant: an object of another tenant is simply not found.
public protocol KeyStore: Sendable {
    // MARK: Tenants

    /// Creates a tenant. Throws `KeyStoreError.alreadyExists` when the id is taken.
    ///
    /// Throws `KeyStoreError.invalidName` when the id breaks ``NameRules``.
    func createTenant(_ tenant: Tenant) async throws
    /// The tenant with `id`, if any.
    func tenant(id: String) async throws -> Tenant?
    /// Every tenant, ordered by id.
    func tenants() async throws -> [Tenant]
    /// Replaces a tenant's mutable fields (root key reference, state).
    func updateTenant(_ tenant: Tenant) async throws

    // MARK: Clients (the allow-list)

    /// Adds a trust rule for a tenant: a pinned certificate fingerprint or a trusted CA.
    func addClient(_ client: ClientRule) async throws
    /// Removes a rule by id; returns whether it existed.
    func removeClient(id: String) async throws -> Bool
    /// Every rule, or those of one tenant.
    func clients(tenantID: String?) async throws -> [ClientRule]
    /// The rules whose fingerprint is `fingerprint` (a pinned certificate's or a CA's), of any
    /// tenant, ordered by id: what the TLS layer looks up for a presented certificate chain.
    func clients(fingerprint: String) async throws -> [ClientRule]

    // MARK: Managed objects

    /// Inserts a new object. Throws `KeyStoreError.alreadyExists` for a duplicate unique identifier.
    func insert(_ object: StoredObject) async throws
    /// The object `uniqueIdentifier` of `tenantID`, if it exists in that tenant.
    func object(tenantID: String, uniqueIdentifier: String) async throws -> StoredObject?
    /// Replaces an object if its stored `revision` equals `expectedRevision`; the stored revision
    /// becomes `expectedRevision + 1`. Throws `KeyStoreError.conflict` otherwise, and
    /// `KeyStoreError.notFound` when it does not exist.
    func update(_ object: StoredObject, expectedRevision: Int64) async throws
    /// The objects of a tenant that match `query`, in creation order (newest first with
    /// `query.newestFirst`), after skipping `query.offset` and returning at most `query.limit`.
    func objects(tenantID: String, matching query: ObjectQuery) async throws -> ObjectPage
    /// The objects of a tenant that match `query` and `scan.predicate`, in the order of `query`,
    /// after skipping `query.offset` matches and returning at most `query.limit`.
    ///
    /// The store reads the candidates in chunks of `scan.chunkSize` (keyset pagination, one
    /// short read transaction each) and runs the predicate on its own threads, never on the
    /// caller's executor. It stops reading once the page is full, unless `scan.countsEveryMatch`;
    /// so memory is bounded by the chunk and the page, not by the tenant's number of objects.
    /// ``ObjectPage/totalMatches`` counts every match when the scan read every candidate, and the
    /// matches up to the end of the page otherwise (``ObjectPage/isCountComplete`` says which).
    func objects(tenantID: String, matching query: ObjectQuery, scan: ObjectScan) async throws -> ObjectPage
    /// Throws ``KeyStoreError/unavailable`` when the store could not take a write now (a shared
    /// database that is a read-only standby, or out of reach): what `/readyz` checks.
    func requireWritable() async throws

    // MARK: Shared values

    /// A value that every node sharing this store reads alike (the Local provider's sealed root
    /// keys, say): opaque bytes under a name. `nil` when none was stored.
    func sharedValue(named name: String) async throws -> [UInt8]?
    /// Every shared value whose name starts with `prefix`, by name.
    func sharedValues(prefix: String) async throws -> [String: [UInt8]]
    /// Where the store is and how it is doing (role, replication).
    func status() async throws -> StoreStatus
    /// Replaces the value `name` with what `change` returns for the current one (`nil` when none),
    /// in one transaction under a lock every node honours, and returns `change`'s result once the
    /// new value is committed. Nothing changes when `change` throws.
    func updateSharedValue<Result: Sendable>(
        named name: String,
        _ change: @escaping @Sendable ([UInt8]?) throws -> (value: [UInt8], result: Result)
    ) async throws -> Result

    // MARK: Backup and restore

    /// Everything the store holds, read in one transaction (one consistent snapshot, also while
    /// servers write).
    func snapshot() async throws -> StoreSnapshot
    /// Writes `snapshot` in one transaction: all of it or nothing. Unless `replacing`, a store
    /// that holds anything is left alone with ``KeyStoreError/alreadyExists``; with `replacing`,
    /// what it held is deleted first.
    func restore(_ snapshot: StoreSnapshot, replacing: Bool) async throws

    /// Objects whose key material is wrapped under an older root-key version than `version`
    /// (for the background re-wrap job), at most `limit`.
    func objectsNeedingRewrap(tenantID: String, currentVersion: Int, limit: Int) async throws -> [StoredObject]
}

/// One customer: its root key and its objects.
public struct Tenant: Hashable, Sendable, Codable {
    public var id: String
    public var displayName: String
    /// The tenant's root key in its root-key service.
    public var rootKey: RootKeyReference
    public var createdAt: Int64

    public init(id: String, displayName: String, rootKey: RootKeyReference, createdAt: Int64) {
        self.id = id
        self.displayName = displayName
        self.rootKey = rootKey
        self.createdAt = createdAt
    }
}

/// Which root key, in which service, at which version.
public struct RootKeyReference: Hashable, Sendable, Codable {
    /// `local`, `keyprotect` or `pkcs11`.
    public var provider: String
    /// The key's id in its service.
    public var keyID: String
    /// The version new wraps use.
    public var version: Int

    public init(provider: String, keyID: String, version: Int) {
        self.provider = provider
        self.keyID = keyID
        self.version = version
    }
}

/// A rule that lets a client certificate in, and says which tenant it acts for.
public struct ClientRule: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable {
        /// A pinned certificate, by the SHA-256 fingerprint of its DER.
        case pinnedCertificate = "pinned"
        /// Every certificate issued by this CA (vCenter's root CA, or Keystorm's client CA).
        case trustedCA = "ca"
    }

    public var id: String
    public var tenantID: String
    public var kind: Kind
    /// Lower-case hex SHA-256 of the certificate's DER (the pinned one, or the CA's).
    public var fingerprint: String
    /// The certificate in PEM.
    public var certificatePEM: String
    /// A label for operators, e.g. the subject or "vcenter-01".
    public var label: String
    public var createdAt: Int64

    public init(
        id: String,
        tenantID: String,
        kind: Kind,
        fingerprint: String,
        certificatePEM: String,
        label: String,
        createdAt: Int64
    ) {
        self.id = id
        self.tenantID = tenantID
        self.kind = kind
        self.fingerprint = fingerprint
        self.certificatePEM = certificatePEM
        self.label = label
        self.createdAt = createdAt
    }
}

/// A managed object as stored: searchable columns, the KMIP attributes as an opaque encoding,
/// and the key material wrapped under the tenant's root key.
public struct StoredObject: Hashable, Sendable {
    public var tenantID: String
    public var uniqueIdentifier: String
    /// KMIP Object Type value (2 = Symmetric Key, 7 = Secret Data, ...).
    public var objectType: UInt32
    /// KMIP State value (1 = Pre-Active, 2 = Active, 3 = Deactivated, 4 = Compromised,
    /// 5 = Destroyed, 6 = Destroyed Compromised).
    public var state: UInt32
    /// Every Name value of the object, for Locate.
    public var names: [String]
    /// The attributes, encoded by the server (KMIP 2.1 TTLV Attributes structure); opaque here.
    public var attributes: [UInt8]
    /// The key material, wrapped; `nil` once destroyed.
    public var wrappedKey: WrappedKeyRecord?
    /// Seconds since the epoch.
    public var createdAt: Int64
    public var updatedAt: Int64
    /// Increases by one with every update (optimistic concurrency).
    public var revision: Int64

    public init(
        tenantID: String,
        uniqueIdentifier: String,
        objectType: UInt32,
        state: UInt32,
        names: [String],
        attributes: [UInt8],
        wrappedKey: WrappedKeyRecord?,
        createdAt: Int64,
        updatedAt: Int64,
        revision: Int64 = 0
    ) {
        self.tenantID = tenantID
        self.uniqueIdentifier = uniqueIdentifier
        self.objectType = objectType
        self.state = state
        self.names = names
        self.attributes = attributes
        self.wrappedKey = wrappedKey
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.revision = revision
    }
}

/// Wrapped key material and what it takes to unwrap it.
public struct WrappedKeyRecord: Hashable, Sendable, Codable {
    /// The root-key service's ciphertext (format owned by the provider).
    public var ciphertext: [UInt8]
    /// The root key id and the version that wrapped it.
    public var rootKeyID: String
    public var rootKeyVersion: Int

    public init(ciphertext: [UInt8], rootKeyID: String, rootKeyVersion: Int) {
        self.ciphertext = ciphertext
        self.rootKeyID = rootKeyID
        self.rootKeyVersion = rootKeyVersion
    }
}

/// Which objects of a tenant to list.
public struct ObjectQuery: Hashable, Sendable {
    public var objectType: UInt32?
    public var states: Set<UInt32>?
    /// Objects that have this Name value.
    public var name: String?
    /// Objects created at or after this time (seconds).
    public var createdSince: Int64?
    /// The most recently created first (then the most recently inserted); oldest first when
    /// `false`.
    public var newestFirst: Bool
    public var offset: Int
    public var limit: Int?

    public init(
        objectType: UInt32? = nil,
        states: Set<UInt32>? = nil,
        name: String? = nil,
        createdSince: Int64? = nil,
        newestFirst: Bool = false,
        offset: Int = 0,
        limit: Int? = nil
    ) {
        self.objectType = objectType
        self.states = states
        self.name = name
        self.createdSince = createdSince
        self.newestFirst = newestFirst
        self.offset = offset
        self.limit = limit
    }
}

/// How ``KeyStore/objects(tenantID:matching:scan:)`` matches what the store cannot filter itself
/// (attributes inside the opaque encoding).
public struct ObjectScan: Sendable {
    /// The most rows one read transaction reads (at least 1).
    public var chunkSize: Int
    /// Whether to read every candidate after the page is full, to count every match (KMIP
    /// Located Items); otherwise the scan stops at the end of the page.
    public var countsEveryMatch: Bool
    /// Whether an object matches. It runs on the store's threads; an error fails the listing.
    public var predicate: @Sendable (StoredObject) throws -> Bool

    public init(
        chunkSize: Int = 256,
        countsEveryMatch: Bool = false,
        predicate: @escaping @Sendable (StoredObject) throws -> Bool
    ) {
        self.chunkSize = chunkSize
        self.countsEveryMatch = countsEveryMatch
        self.predicate = predicate
    }
}

/// A page of a listing, with the total number of matches before offset and limit.
public struct ObjectPage: Hashable, Sendable {
    public var objects: [StoredObject]
    /// Every match (before offset and limit) when ``isCountComplete``; otherwise the matches up
    /// to the end of the page, a lower bound.
    public var totalMatches: Int
    /// Whether ``totalMatches`` counts every match.
    public var isCountComplete: Bool
    /// The `objects` rows the store read to answer: the page itself for a listing the store filters
    /// alone, every candidate scanned for a ``KeyStore/objects(tenantID:matching:scan:)``.
    public var rowsRead: Int
    /// The most rows one read transaction read.
    public var largestChunk: Int

    public init(
        objects: [StoredObject],
        totalMatches: Int,
        isCountComplete: Bool = true,
        rowsRead: Int? = nil,
        largestChunk: Int? = nil
    ) {
        self.objects = objects
        self.totalMatches = totalMatches
        self.isCountComplete = isCountComplete
        self.rowsRead = rowsRead ?? objects.count
        self.largestChunk = largestChunk ?? objects.count
    }
}

extension KeyStore {
    /// A store in the data directory takes writes whenever it answers.
    public func requireWritable() async throws {}
}
