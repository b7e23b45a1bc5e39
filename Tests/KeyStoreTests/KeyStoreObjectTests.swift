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

@Suite("KeyStore objects")
struct KeyStoreObjectTests {
    @Test(arguments: StoreBackend.available)
    func objectRoundTripsWithNamesAttributesAndWrappedKey(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.createTenant(Sample.tenant("a"))
            let object = Sample.object(tenantID: "a", uid: "k1", names: ["vm-disk", "x-vcenter", "vm-disk-2"])
            try await store.insert(object)
            #expect(try await store.object(tenantID: "a", uniqueIdentifier: "k1") == object)
            #expect(try await store.object(tenantID: "a", uniqueIdentifier: "k2") == nil)
        }
    }

    @Test(arguments: StoreBackend.available)
    func emptyAttributesAndDestroyedMaterialRoundTrip(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.createTenant(Sample.tenant("a"))
            var destroyed = Sample.object(tenantID: "a", uid: "gone", state: 5, rootKeyVersion: nil)
            destroyed.attributes = []
            var empty = Sample.object(tenantID: "a", uid: "empty")
            empty.wrappedKey?.ciphertext = []
            try await store.insert(destroyed)
            try await store.insert(empty)
            #expect(try await store.object(tenantID: "a", uniqueIdentifier: "gone") == destroyed)
            #expect(try await store.object(tenantID: "a", uniqueIdentifier: "empty") == empty)
        }
    }

    @Test(arguments: StoreBackend.available)
    func duplicateInsertIsAlreadyExistsWithinATenantOnly(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.createTenant(Sample.tenant("a"))
            try await store.createTenant(Sample.tenant("b"))
            try await store.insert(Sample.object(tenantID: "a", uid: "k1", names: ["n"]))
            await expectKeyStoreError(.alreadyExists) {
                try await store.insert(Sample.object(tenantID: "a", uid: "k1", names: ["other"]))
            }
            // The failed insert left nothing behind.
            #expect(try await store.objects(tenantID: "a", matching: ObjectQuery(name: "other")).totalMatches == 0)
            try await store.insert(Sample.object(tenantID: "b", uid: "k1"))
        }
    }

    @Test(arguments: StoreBackend.available)
    func insertIntoAnUnknownTenantIsNotFound(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            await expectKeyStoreError(.notFound) { try await store.insert(Sample.object(tenantID: "ghost", uid: "k1")) }
        }
    }

    @Test(arguments: StoreBackend.available)
    func updateReplacesContentAndBumpsTheRevision(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.createTenant(Sample.tenant("a"))
            let original = Sample.object(tenantID: "a", uid: "k1", state: 1, names: ["old"])
            try await store.insert(original)

            var changed = original
            changed.state = 2
            changed.names = ["new", "newer"]
            changed.attributes = [1, 2, 3]
            changed.wrappedKey = WrappedKeyRecord(ciphertext: [9, 9], rootKeyID: "root-a", rootKeyVersion: 2)
            changed.updatedAt = original.updatedAt + 10
            changed.createdAt = 0
            changed.revision = 99
            try await store.update(changed, expectedRevision: 0)

            let stored = try #require(try await store.object(tenantID: "a", uniqueIdentifier: "k1"))
            var expected = changed
            expected.createdAt = original.createdAt
            expected.revision = 1
            #expect(stored == expected)
            #expect(try await store.objects(tenantID: "a", matching: ObjectQuery(name: "old")).totalMatches == 0)
            #expect(try await store.objects(tenantID: "a", matching: ObjectQuery(name: "newer")).totalMatches == 1)

            changed.state = 3
            try await store.update(changed, expectedRevision: 1)
            #expect(try await store.object(tenantID: "a", uniqueIdentifier: "k1")?.revision == 2)
        }
    }

    @Test(arguments: StoreBackend.available)
    func staleRevisionIsAConflictAndChangesNothing(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.createTenant(Sample.tenant("a"))
            let original = Sample.object(tenantID: "a", uid: "k1", state: 1)
            try await store.insert(original)
            var first = original
            first.state = 2
            try await store.update(first, expectedRevision: 0)

            var second = original
            second.state = 5
            second.wrappedKey = nil
            await expectKeyStoreError(.conflict) { try await store.update(second, expectedRevision: 0) }
            let stored = try #require(try await store.object(tenantID: "a", uniqueIdentifier: "k1"))
            #expect(stored.state == 2)
            #expect(stored.wrappedKey != nil)
            #expect(stored.revision == 1)
        }
    }

    @Test(arguments: StoreBackend.availableWithWriteModes)
    func concurrentUpdatesFromOneRevisionLetExactlyOneWin(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.createTenant(Sample.tenant("a"))
            try await store.insert(Sample.object(tenantID: "a", uid: "k1", state: 1))
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for state in UInt32(1)...10 {
                    group.addTask {
                        do {
                            try await store.update(
                                Sample.object(tenantID: "a", uid: "k1", state: state),
                                expectedRevision: 0
                            )
                            return true
                        } catch KeyStoreError.conflict {
                            return false
                        }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
            #expect(try await store.object(tenantID: "a", uniqueIdentifier: "k1")?.revision == 1)
        }
    }

    @Test(arguments: StoreBackend.available)
    func updatingAMissingObjectIsNotFound(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.createTenant(Sample.tenant("a"))
            await expectKeyStoreError(.notFound) {
                try await store.update(Sample.object(tenantID: "a", uid: "nope"), expectedRevision: 0)
            }
        }
    }

    @Test(arguments: StoreBackend.available)
    func objectsOfTenantAAreInvisibleToTenantB(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.createTenant(Sample.tenant("a"))
            try await store.createTenant(Sample.tenant("b"))
            let secret = Sample.object(tenantID: "a", uid: "k1", names: ["shared-name"])
            try await store.insert(secret)

            #expect(try await store.object(tenantID: "b", uniqueIdentifier: "k1") == nil)
            let pageForB = try await store.objects(tenantID: "b", matching: ObjectQuery())
            #expect(pageForB == ObjectPage(objects: [], totalMatches: 0))
            #expect(
                try await store.objects(tenantID: "b", matching: ObjectQuery(name: "shared-name")).totalMatches == 0
            )
            #expect(try await store.objectsNeedingRewrap(tenantID: "b", currentVersion: 5, limit: 10).isEmpty)

            var hijack = secret
            hijack.tenantID = "b"
            hijack.wrappedKey = nil
            await expectKeyStoreError(.notFound) { try await store.update(hijack, expectedRevision: 0) }
            #expect(try await store.object(tenantID: "a", uniqueIdentifier: "k1") == secret)
        }
    }

    @Test(arguments: StoreBackend.availableWithWriteModes)
    func concurrentInsertsFromFiftyTasksAreAllPresent(backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await store.createTenant(Sample.tenant("a"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        try await store.insert(
                            Sample.object(
                                tenantID: "a",
                                uid: "k\(index)",
                                names: ["disk-\(index)"],
                                createdAt: Int64(index)
                            )
                        )
                    }
                }
                try await group.waitForAll()
            }
            let page = try await store.objects(tenantID: "a", matching: ObjectQuery())
            #expect(page.totalMatches == 50)
            #expect(page.objects.map(\.uniqueIdentifier) == (0..<50).map { "k\($0)" })
            #expect(page.objects.map(\.names) == (0..<50).map { ["disk-\($0)"] })
        }
    }
}
