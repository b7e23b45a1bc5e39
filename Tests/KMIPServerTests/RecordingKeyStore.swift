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

import KeyStore
import Synchronization

/// A ``KeyStore`` in front of a real one that records what the server asked of it: the listings
/// (and how many rows each read), the updates; and, when told to, loses every update to a
/// concurrent writer.
final class RecordingKeyStore: KeyStore {
    /// One listing call: whether it went through a predicate scan, and what it read.
    struct Listing: Sendable {
        var scanned: Bool
        var rowsRead: Int
        var largestChunk: Int
        var returned: Int
    }

    let base: any KeyStore
    let conflictOnUpdate: Bool
    private let recorded = Mutex<(listings: [Listing], updates: Int, conflicts: Int)>(([], 0, 0))

    init(base: any KeyStore, conflictOnUpdate: Bool = false) {
        self.base = base
        self.conflictOnUpdate = conflictOnUpdate
    }

    var listings: [Listing] { self.recorded.withLock { $0.listings } }
    var updates: Int { self.recorded.withLock { $0.updates } }
    /// Updates that lost an optimistic-revision race (in the real store, or by `conflictOnUpdate`).
    var conflicts: Int { self.recorded.withLock { $0.conflicts } }
    func reset() { self.recorded.withLock { $0 = ([], 0, 0) } }

    func createTenant(_ tenant: Tenant) async throws { try await self.base.createTenant(tenant) }
    func tenant(id: String) async throws -> Tenant? { try await self.base.tenant(id: id) }
    func tenants() async throws -> [Tenant] { try await self.base.tenants() }
    func updateTenant(_ tenant: Tenant) async throws { try await self.base.updateTenant(tenant) }
    func addClient(_ client: ClientRule) async throws { try await self.base.addClient(client) }
    func removeClient(id: String) async throws -> Bool { try await self.base.removeClient(id: id) }
    func clients(tenantID: String?) async throws -> [ClientRule] { try await self.base.clients(tenantID: tenantID) }
    func sharedValue(named name: String) async throws -> [UInt8]? { try await self.base.sharedValue(named: name) }
    func updateSharedValue<Result: Sendable>(
        named name: String,
        _ change: @escaping @Sendable ([UInt8]?) throws -> (value: [UInt8], result: Result)
    ) async throws -> Result {
        try await self.base.updateSharedValue(named: name, change)
    }
    func sharedValues(prefix: String) async throws -> [String: [UInt8]] {
        try await self.base.sharedValues(prefix: prefix)
    }
    func status() async throws -> StoreStatus { try await self.base.status() }
    func snapshot() async throws -> StoreSnapshot { try await self.base.snapshot() }
    func restore(_ snapshot: StoreSnapshot, replacing: Bool) async throws {
        try await self.base.restore(snapshot, replacing: replacing)
    }
    func clients(fingerprint: String) async throws -> [ClientRule] {
        try await self.base.clients(fingerprint: fingerprint)
    }
    func insert(_ object: StoredObject) async throws { try await self.base.insert(object) }

    func object(tenantID: String, uniqueIdentifier: String) async throws -> StoredObject? {
        try await self.base.object(tenantID: tenantID, uniqueIdentifier: uniqueIdentifier)
    }

    func update(_ object: StoredObject, expectedRevision: Int64) async throws {
        self.recorded.withLock { $0.updates += 1 }
        do {
            if self.conflictOnUpdate {
                throw KeyStoreError(.conflict, reason: "object \(object.uniqueIdentifier) changed (test)")
            }
            try await self.base.update(object, expectedRevision: expectedRevision)
        } catch KeyStoreError.conflict {
            self.recorded.withLock { $0.conflicts += 1 }
            throw KeyStoreError(.conflict, reason: "object \(object.uniqueIdentifier) changed")
        }
    }

    func objects(tenantID: String, matching query: ObjectQuery) async throws -> ObjectPage {
        let page = try await self.base.objects(tenantID: tenantID, matching: query)
        self.record(page, scanned: false)
        return page
    }

    func objects(tenantID: String, matching query: ObjectQuery, scan: ObjectScan) async throws -> ObjectPage {
        let page = try await self.base.objects(tenantID: tenantID, matching: query, scan: scan)
        self.record(page, scanned: true)
        return page
    }

    func objectsNeedingRewrap(tenantID: String, currentVersion: Int, limit: Int) async throws -> [StoredObject] {
        try await self.base.objectsNeedingRewrap(tenantID: tenantID, currentVersion: currentVersion, limit: limit)
    }

    private func record(_ page: ObjectPage, scanned: Bool) {
        let listing = Listing(
            scanned: scanned,
            rowsRead: page.rowsRead,
            largestChunk: page.largestChunk,
            returned: page.objects.count
        )
        self.recorded.withLock { $0.listings.append(listing) }
    }
}
