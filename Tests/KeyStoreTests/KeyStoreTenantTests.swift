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

@Suite("KeyStore tenants and client rules")
struct KeyStoreTenantTests {
    @Test(arguments: StoreBackend.available)
    func tenantsAreCreatedReadListedAndUpdated(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            #expect(try await store.tenants().isEmpty)
            #expect(try await store.tenant(id: "acme") == nil)

            try await store.createTenant(Sample.tenant("zeta"))
            try await store.createTenant(Sample.tenant("acme"))
            #expect(try await store.tenant(id: "acme") == Sample.tenant("acme"))
            #expect(try await store.tenants().map(\.id) == ["acme", "zeta"])

            var rotated = Sample.tenant("acme", version: 2)
            rotated.displayName = "ACME Corp"
            rotated.createdAt = 42
            try await store.updateTenant(rotated)
            let stored = try #require(try await store.tenant(id: "acme"))
            #expect(stored.rootKey.version == 2)
            #expect(stored.displayName == "ACME Corp")
            #expect(stored.createdAt == Sample.tenant("acme").createdAt)
        }
    }

    @Test(arguments: StoreBackend.available)
    func duplicateTenantIsAlreadyExists(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.createTenant(Sample.tenant("acme"))
            await expectKeyStoreError(.alreadyExists) { try await store.createTenant(Sample.tenant("acme")) }
        }
    }

    @Test(arguments: StoreBackend.available)
    func updatingAMissingTenantIsNotFound(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            await expectKeyStoreError(.notFound) { try await store.updateTenant(Sample.tenant("ghost")) }
        }
    }

    @Test(arguments: StoreBackend.available)
    func clientRulesAreAddedListedAndRemoved(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.createTenant(Sample.tenant("a"))
            try await store.createTenant(Sample.tenant("b"))
            let pinned = Sample.client("r2", tenantID: "a", fingerprint: "11")
            var ca = Sample.client("r1", tenantID: "b", fingerprint: "22")
            ca.kind = .trustedCA
            let other = Sample.client("r3", tenantID: "a", fingerprint: "22")
            try await store.addClient(pinned)
            try await store.addClient(ca)
            try await store.addClient(other)

            #expect(try await store.clients(tenantID: nil) == [ca, pinned, other])
            #expect(try await store.clients(tenantID: "a") == [pinned, other])
            #expect(try await store.clients(tenantID: "b") == [ca])
            #expect(try await store.clients(tenantID: "nobody").isEmpty)
            #expect(try await store.clients(fingerprint: "22") == [ca, other])

            #expect(try await store.removeClient(id: "r2"))
            #expect(try await store.removeClient(id: "r2") == false)
            #expect(try await store.clients(tenantID: "a") == [other])
        }
    }

    @Test(arguments: StoreBackend.available)
    func duplicateClientRuleIsAlreadyExists(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.createTenant(Sample.tenant("a"))
            try await store.addClient(Sample.client("r1", tenantID: "a"))
            await expectKeyStoreError(.alreadyExists) { try await store.addClient(Sample.client("r1", tenantID: "a")) }
        }
    }

    @Test(arguments: StoreBackend.available)
    func clientRuleOfAnUnknownTenantIsNotFound(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            await expectKeyStoreError(.notFound) { try await store.addClient(Sample.client("r1", tenantID: "ghost")) }
        }
    }

    @Test func inMemoryStoreServesTheSameContract() async throws {
        let store = try SQLiteKeyStore.inMemory()
        try await store.createTenant(Sample.tenant("a"))
        try await store.insert(Sample.object(tenantID: "a", uid: "k1", names: ["disk-1"]))
        #expect(try await store.object(tenantID: "a", uniqueIdentifier: "k1")?.names == ["disk-1"])
        #expect(try await store.objects(tenantID: "a", matching: ObjectQuery(name: "disk-1")).totalMatches == 1)
        try store.close()
    }
}

@Suite("KeyStore shared values")
struct KeyStoreSharedValueTests {
    @Test(arguments: StoreBackend.available)
    func valuesAreStoredReadAndReplaced(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            #expect(try await store.sharedValue(named: "rootkeys") == nil)
            let first: Bool = try await store.updateSharedValue(named: "rootkeys") { current in
                ([1, 2, 3], current == nil)
            }
            #expect(first)
            #expect(try await store.sharedValue(named: "rootkeys") == [1, 2, 3])
            try await store.updateSharedValue(named: "rootkeys") { current in (current.map { $0 + [4] } ?? [], ()) }
            #expect(try await store.sharedValue(named: "rootkeys") == [1, 2, 3, 4])
            try await store.updateSharedValue(named: "empty") { _ in ([], ()) }
            #expect(try await store.sharedValue(named: "empty") == [])
        }
    }

    @Test(arguments: StoreBackend.available)
    func aChangeThatThrowsChangesNothing(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.updateSharedValue(named: "v") { _ in ([7], ()) }
            await expectKeyStoreError(.conflict) {
                try await store.updateSharedValue(named: "v") { _ -> (value: [UInt8], result: Void) in
                    throw KeyStoreError(.conflict, reason: "refused by the change")
                }
            }
            #expect(try await store.sharedValue(named: "v") == [7])
        }
    }

    /// Concurrent read-modify-write cycles take turns: none is lost.
    @Test(arguments: StoreBackend.available)
    func concurrentUpdatesEachSeeThePreviousOne(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await store.updateSharedValue(named: "counter") { current in
                            ([(current?.first ?? 0) + 1], ())
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.sharedValue(named: "counter") == [20])
        }
    }
}
