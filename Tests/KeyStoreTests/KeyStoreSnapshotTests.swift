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
import Testing

/// Backup and restore at the store level: a snapshot taken from one backend restores into any
/// other, whole, with revisions, times, names, wrapped keys and shared values.
@Suite("KeyStore snapshots")
struct KeyStoreSnapshotTests {
    static func populate(_ store: any KeyStore) async throws {
        try await store.createTenant(Sample.tenant("a"))
        try await store.createTenant(Sample.tenant("b", version: 3))
        try await store.addClient(Sample.client("r1", tenantID: "a"))
        var ca = Sample.client("r2", tenantID: "b", fingerprint: "cd")
        ca.kind = .trustedCA
        try await store.addClient(ca)
        for index in 0..<25 {
            try await store.insert(
                Sample.object(
                    tenantID: index.isMultiple(of: 2) ? "a" : "b",
                    uid: "k\(index)",
                    state: UInt32(index % 3) + 1,
                    names: index == 4 ? ["disk", "vm-01"] : ["k\(index)"],
                    createdAt: 1_000 + Int64(index),
                    rootKeyVersion: index == 7 ? nil : 1
                )
            )
        }
        try await store.update(Sample.object(tenantID: "a", uid: "k0", state: 3), expectedRevision: 0)
        try await store.updateSharedValue(named: "rootkeys.local.sealed") { _ in ([9, 8, 7], ()) }
    }

    static var pairs: [(StoreBackend, StoreBackend)] {
        StoreBackend.available.flatMap { from in StoreBackend.available.map { (from, $0) } }
    }

    @Test(arguments: Self.pairs)
    func aSnapshotRestoresWholeIntoAnyBackend(from: StoreBackend, to: StoreBackend) async throws {
        let snapshot = try await withStore(from) { store in
            try await Self.populate(store)
            return try await store.snapshot()
        }
        #expect(snapshot.tenants.count == 2 && snapshot.clients.count == 2 && snapshot.objects.count == 25)
        #expect(snapshot.objects.first { $0.uniqueIdentifier == "k0" }?.revision == 1)
        try await withStore(to) { store in
            try await store.restore(snapshot, replacing: false)
            #expect(try await store.snapshot() == snapshot)
            // The restored store works as any other: its indexes, its revisions.
            #expect(try await store.objects(tenantID: "a", matching: ObjectQuery(name: "vm-01")).totalMatches == 1)
            await expectKeyStoreError(.conflict) {
                try await store.update(Sample.object(tenantID: "a", uid: "k0"), expectedRevision: 0)
            }
            try await store.update(Sample.object(tenantID: "a", uid: "k0"), expectedRevision: 1)
        }
    }

    @Test(arguments: StoreBackend.available)
    func aStoreThatHoldsAnythingIsLeftAloneUnlessReplacing(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.createTenant(Sample.tenant("existing"))
            let backup = StoreSnapshot(tenants: [Sample.tenant("restored")])
            await expectKeyStoreError(.alreadyExists) { try await store.restore(backup, replacing: false) }
            #expect(try await store.tenants().map(\.id) == ["existing"])
            try await store.restore(backup, replacing: true)
            #expect(try await store.tenants().map(\.id) == ["restored"])
            // A snapshot that does not fit (an object of a missing tenant) changes nothing.
            let broken = StoreSnapshot(objects: [Sample.object(tenantID: "ghost", uid: "k1")])
            do {
                try await store.restore(broken, replacing: true)
                Issue.record("an object of a missing tenant was restored")
            } catch {}
            #expect(try await store.tenants().map(\.id) == ["restored"])
            // A crafted backup cannot bring in a tenant id that climbs out of a directory.
            await expectKeyStoreError(.invalidName) {
                try await store.restore(StoreSnapshot(tenants: [Sample.tenant("..")]), replacing: true)
            }
            #expect(try await store.tenants().map(\.id) == ["restored"])
        }
    }
}
