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

import Benchmark
import BenchmarkSupport
import KeyStore

let benchmarks: @Sendable () -> Void = {
    // One iteration is one operation (`insert32Concurrent`: one round of 32 inserts). The store is
    // a file in a temporary directory, opened as the server opens it: WAL, synchronous=FULL, group
    // commit on, so an insert's time is mostly the disk's fsync. Names have no spaces (see
    // KMIPCodecBenchmarks).
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal, .cpuTotal],
        warmupIterations: 10,
        scalingFactor: .one,
        maxDuration: .seconds(1),
        maxIterations: 10_000,
        // GRDB's statement cache and how many writes share a commit vary a little with timing:
        // a few allocations per operation either way.
        thresholds: [.mallocCountTotal: .init(relative: [.p90: 5.0])]
    )

    let scratch = ScratchDirectory(name: "keystore")

    // The read of every Get: one object of one tenant by unique identifier, among 10,000 objects of
    // 4 tenants, cycling through 1,000 of them.
    Benchmark(
        "SQLiteKeyStore.objectByUID",
        configuration: .init(metrics: [.throughput, .wallClock, .mallocCountTotal, .cpuTotal, .mallocFreeDelta])
    ) { (benchmark: Benchmark, fixture: StoreFixture) in
        for _ in benchmark.scaledIterations {
            blackHole(try await fixture.lookUpNext())
        }
    } setup: {
        let fixture = try await StoreFixture.make(scratch)
        var objects: [StoredObject] = []
        for index in 0..<10_000 {
            objects.append(StoreFixture.object(tenant: index % 4, index: index))
            if objects.count == 500 {
                try await fixture.insertConcurrently(objects)
                objects = []
            }
        }
        guard try await fixture.lookUpNext() else {
            throw BenchmarkSetupError(reason: "an inserted object was not found")
        }
        return fixture
    } teardown: {
        scratch.remove()
    }

    // One insert at a time: each is its own transaction and its own fsync.
    Benchmark("SQLiteKeyStore.insert") { (benchmark: Benchmark, fixture: StoreFixture) in
        for _ in benchmark.scaledIterations {
            try await fixture.store.insert(fixture.nextNewObject())
        }
    } setup: {
        try await StoreFixture.make(scratch)
    } teardown: {
        scratch.remove()
    }

    // 32 inserts at once, as a Create storm sends them: group commit lets those that arrive while
    // a commit runs share the next transaction and its fsync.
    Benchmark("SQLiteKeyStore.insert32Concurrent") { (benchmark: Benchmark, fixture: StoreFixture) in
        for _ in benchmark.scaledIterations {
            try await fixture.insertConcurrently((0..<32).map { _ in fixture.nextNewObject() })
        }
    } setup: {
        try await StoreFixture.make(scratch)
    } teardown: {
        scratch.remove()
    }
}

/// A file-backed SQLiteKeyStore with four tenants.
final class StoreFixture: @unchecked Sendable {
    // Benchmark runs the iterations one after another on one task; the counters need no lock.
    let store: SQLiteKeyStore
    private var nextLookUp = 0
    private var nextInsert = 1_000_000

    private init(store: SQLiteKeyStore) {
        self.store = store
    }

    static func make(_ scratch: ScratchDirectory) async throws -> StoreFixture {
        let directory = try scratch.create()
        let store = try SQLiteKeyStore(path: directory + "/keystorm.sqlite")
        scratch.keep(store)
        for tenant in 0..<4 {
            try await store.createTenant(
                Tenant(
                    id: "tenant-\(tenant)",
                    displayName: "Tenant \(tenant)",
                    rootKey: RootKeyReference(provider: "local", keyID: "root-\(tenant)", version: 1),
                    createdAt: 1_767_225_600
                )
            )
        }
        return StoreFixture(store: store)
    }

    /// Object `index` of tenant `tenant`: an active AES-256 key as Create stores it (a name,
    /// about 400 bytes of attributes, 60 bytes of wrapped key material).
    static func object(tenant: Int, index: Int) -> StoredObject {
        StoredObject(
            tenantID: "tenant-\(tenant)",
            uniqueIdentifier: uid(index),
            objectType: 2,
            state: 2,
            names: ["vm-\(index)-disk-key"],
            attributes: Array(repeating: 0x42, count: 400),
            wrappedKey: WrappedKeyRecord(
                ciphertext: Array(repeating: 0xC5, count: 60),
                rootKeyID: "root-\(tenant)",
                rootKeyVersion: 1
            ),
            createdAt: 1_767_225_600,
            updatedAt: 1_767_225_600
        )
    }

    static func uid(_ index: Int) -> String {
        "00000000-0000-4000-8000-\(100_000_000_000 + index)"
    }

    /// Looks up the next of the first 1,000 objects; returns whether it was found.
    func lookUpNext() async throws -> Bool {
        let index = self.nextLookUp
        self.nextLookUp = (index + 1) % 1_000
        return try await self.store.object(tenantID: "tenant-\(index % 4)", uniqueIdentifier: Self.uid(index)) != nil
    }

    /// An object no earlier call returned.
    func nextNewObject() -> StoredObject {
        defer { self.nextInsert += 1 }
        return Self.object(tenant: self.nextInsert % 4, index: self.nextInsert)
    }

    func insertConcurrently(_ objects: [StoredObject]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for object in objects {
                group.addTask { try await self.store.insert(object) }
            }
            try await group.waitForAll()
        }
    }
}

struct BenchmarkSetupError: Error, CustomStringConvertible {
    var reason: String
    var description: String { self.reason }
}
