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

@Suite("KeyStore listings")
struct KeyStoreQueryTests {
    /// Tenant "a": k0...k9 created at 100...109; even ones Symmetric Keys (2), odd ones Secret
    /// Data (7); states cycle Pre-Active, Active, Deactivated; k3 and k6 are named "boot";
    /// wrapped under root-key version (index % 3) + 1. Tenant "b" has one Active Symmetric Key.
    private func withPopulatedStore(_ backend: StoreBackend, _ body: (any KeyStore) async throws -> Void) async throws {
        try await withStore(backend) { store in
            try await store.createTenant(Sample.tenant("a"))
            try await store.createTenant(Sample.tenant("b"))
            // Inserted out of creation order: listings follow created_at, not insertion.
            for index in [5, 0, 9, 1, 8, 2, 7, 3, 6, 4] {
                try await store.insert(
                    Sample.object(
                        tenantID: "a",
                        uid: "k\(index)",
                        objectType: index.isMultiple(of: 2) ? 2 : 7,
                        state: UInt32(index % 3) + 1,
                        names: [3, 6].contains(index) ? ["boot", "k\(index)"] : ["k\(index)"],
                        createdAt: 100 + Int64(index),
                        rootKeyVersion: index % 3 + 1
                    )
                )
            }
            try await store.insert(Sample.object(tenantID: "b", uid: "b0", names: ["boot"], createdAt: 100))
            try await body(store)
        }
    }

    private func uids(_ store: any KeyStore, _ query: ObjectQuery) async throws -> [String] {
        try await store.objects(tenantID: "a", matching: query).objects.map(\.uniqueIdentifier)
    }

    @Test(arguments: StoreBackend.available)
    func everythingIsListedInCreationOrder(backend: StoreBackend) async throws {
        try await withPopulatedStore(backend) { store async throws in
            let page = try await store.objects(tenantID: "a", matching: ObjectQuery())
            #expect(page.totalMatches == 10)
            #expect(page.objects.map(\.uniqueIdentifier) == (0..<10).map { "k\($0)" })
        }
    }

    @Test(arguments: StoreBackend.available)
    func filtersApplyAndCombine(backend: StoreBackend) async throws {
        try await withPopulatedStore(backend) { store async throws in
            #expect(try await self.uids(store, ObjectQuery(objectType: 7)) == ["k1", "k3", "k5", "k7", "k9"])
            #expect(try await self.uids(store, ObjectQuery(states: [2])) == ["k1", "k4", "k7"])
            #expect(
                try await self.uids(store, ObjectQuery(states: [1, 3])) == ["k0", "k2", "k3", "k5", "k6", "k8", "k9"]
            )
            #expect(try await self.uids(store, ObjectQuery(name: "boot")) == ["k3", "k6"])
            #expect(try await self.uids(store, ObjectQuery(name: "k4")) == ["k4"])
            #expect(try await self.uids(store, ObjectQuery(name: "nothing")) == [])
            #expect(try await self.uids(store, ObjectQuery(createdSince: 107)) == ["k7", "k8", "k9"])
            #expect(
                try await self.uids(store, ObjectQuery(objectType: 2, states: [1, 2], createdSince: 103)) == [
                    "k4", "k6",
                ]
            )
            #expect(try await self.uids(store, ObjectQuery(objectType: 2, name: "boot")) == ["k6"])
            #expect(try await self.uids(store, ObjectQuery(states: [])) == [])
        }
    }

    @Test(arguments: StoreBackend.available)
    func offsetAndLimitPageThroughTotalMatches(backend: StoreBackend) async throws {
        try await withPopulatedStore(backend) { store async throws in
            let query = ObjectQuery(objectType: 2, offset: 1, limit: 2)
            let page = try await store.objects(tenantID: "a", matching: query)
            #expect(page.totalMatches == 5)
            #expect(page.objects.map(\.uniqueIdentifier) == ["k2", "k4"])

            let last = try await store.objects(tenantID: "a", matching: ObjectQuery(objectType: 2, offset: 4, limit: 2))
            #expect(last.totalMatches == 5)
            #expect(last.objects.map(\.uniqueIdentifier) == ["k8"])

            let beyond = try await store.objects(tenantID: "a", matching: ObjectQuery(offset: 10))
            #expect(beyond == ObjectPage(objects: [], totalMatches: 10))

            let countOnly = try await store.objects(tenantID: "a", matching: ObjectQuery(name: "boot", limit: 0))
            #expect(countOnly == ObjectPage(objects: [], totalMatches: 2))

            #expect(try await self.uids(store, ObjectQuery(offset: -3, limit: 1)) == ["k0"])
        }
    }

    @Test(arguments: StoreBackend.available)
    func listedObjectsCarryTheirNames(backend: StoreBackend) async throws {
        try await withPopulatedStore(backend) { store async throws in
            let page = try await store.objects(tenantID: "a", matching: ObjectQuery(name: "boot"))
            #expect(page.objects.map(\.names) == [["boot", "k3"], ["boot", "k6"]])
        }
    }

    @Test(arguments: StoreBackend.available)
    func rewrapListsOlderVersionsOnlyUpToTheLimit(backend: StoreBackend) async throws {
        try await withPopulatedStore(backend) { store async throws in
            try await store.insert(Sample.object(tenantID: "a", uid: "destroyed", state: 5, rootKeyVersion: nil))
            // Versions: k0 1, k1 2, k2 3, k3 1, k4 2, k5 3, k6 1, k7 2, k8 3, k9 1.
            let belowTwo = try await store.objectsNeedingRewrap(tenantID: "a", currentVersion: 2, limit: 100)
            #expect(Set(belowTwo.map(\.uniqueIdentifier)) == ["k0", "k3", "k6", "k9"])
            #expect(belowTwo.allSatisfy { $0.wrappedKey?.rootKeyVersion == 1 })

            let belowThree = try await store.objectsNeedingRewrap(tenantID: "a", currentVersion: 3, limit: 3)
            #expect(belowThree.count == 3)
            #expect(belowThree.allSatisfy { ($0.wrappedKey?.rootKeyVersion ?? 3) < 3 })

            #expect(try await store.objectsNeedingRewrap(tenantID: "a", currentVersion: 1, limit: 100).isEmpty)
            #expect(try await store.objectsNeedingRewrap(tenantID: "a", currentVersion: 9, limit: 0).isEmpty)
            #expect(try await store.objectsNeedingRewrap(tenantID: "a", currentVersion: 9, limit: 100).count == 10)
        }
    }
}
