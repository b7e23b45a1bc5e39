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
import Testing

/// Chunked scans with a predicate (what Locate uses to match attributes): bounded reads, keyset
/// pagination without gaps or repeats, early stop.
@Suite("KeyStore chunked scans")
struct KeyStoreScanTests {
    /// 1,000 Active Symmetric Keys of tenant "a", `o0`...`o999`, created ten to a second (so
    /// creation times tie and the row id orders them), plus a Destroyed one and one of tenant "b".
    private func withManyObjects(_ backend: StoreBackend, _ body: (any KeyStore) async throws -> Void) async throws {
        try await withStore(backend) { store in
            try await store.createTenant(Sample.tenant("a"))
            try await store.createTenant(Sample.tenant("b"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for batch in stride(from: 0, to: 1_000, by: 100) {
                    group.addTask {
                        for index in batch..<batch + 100 {
                            try await store.insert(
                                Sample.object(
                                    tenantID: "a",
                                    uid: "o\(index)",
                                    names: [],
                                    createdAt: 1_000 + Int64(index / 10)
                                )
                            )
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await store.insert(Sample.object(tenantID: "a", uid: "gone", state: 5, names: [], createdAt: 5_000))
            try await store.insert(Sample.object(tenantID: "b", uid: "other", names: [], createdAt: 5_000))
            try await body(store)
        }
    }

    /// A predicate that counts how often the store called it.
    private final class Counter: Sendable {
        let calls = Mutex(0)
        var count: Int { self.calls.withLock { $0 } }
    }

    private static func index(_ object: StoredObject) -> Int { Int(object.uniqueIdentifier.dropFirst())! }

    @Test(arguments: StoreBackend.available)
    func aFullPageStopsTheScanAfterOneChunk(backend: StoreBackend) async throws {
        try await withManyObjects(backend) { store async throws in
            let counter = Counter()
            let scan = ObjectScan(chunkSize: 50) { _ in
                counter.calls.withLock { $0 += 1 }
                return true
            }
            let page = try await store.objects(
                tenantID: "a",
                matching: ObjectQuery(states: [2], newestFirst: true, limit: 10),
                scan: scan
            )
            #expect(page.objects.count == 10)
            #expect(counter.count == 50)
            #expect(page.rowsRead == 50)
            #expect(page.largestChunk == 50)
            #expect(!page.isCountComplete)
            #expect(page.totalMatches == 10)
            // Newest first: the last ten inserted share creation time 1,099; the row id breaks the tie.
            let creation = page.objects.map(\.createdAt)
            #expect(creation == creation.sorted(by: >))
            #expect(Set(page.objects.map(Self.index)) == Set(990..<1_000))
        }
    }

    @Test(arguments: StoreBackend.available)
    func pagesOfAFilteredScanCoverEveryMatchOnce(backend: StoreBackend) async throws {
        try await withManyObjects(backend) { store async throws in
            // Every seventh object matches: 143 of them (0, 7, ..., 994).
            let expected = (0..<1_000).filter { $0.isMultiple(of: 7) }
            var seen: [Int] = []
            var offset = 0
            while true {
                let counter = Counter()
                let scan = ObjectScan(chunkSize: 64) { object in
                    counter.calls.withLock { $0 += 1 }
                    return Self.index(object).isMultiple(of: 7)
                }
                let page = try await store.objects(
                    tenantID: "a",
                    matching: ObjectQuery(states: [2], offset: offset, limit: 20),
                    scan: scan
                )
                #expect(page.largestChunk <= 64)
                // Never more than the chunks it takes to reach the end of the page.
                let needed = min(1_000, 7 * (offset + 20))
                #expect(counter.count <= needed + 64)
                if page.objects.isEmpty { break }
                seen += page.objects.map(Self.index)
                offset += page.objects.count
            }
            #expect(seen == expected)
        }
    }

    @Test(arguments: StoreBackend.available)
    func countingEveryMatchReadsEverythingAChunkAtATime(backend: StoreBackend) async throws {
        try await withManyObjects(backend) { store async throws in
            let scan = ObjectScan(chunkSize: 100, countsEveryMatch: true) { Self.index($0) >= 900 }
            let page = try await store.objects(
                tenantID: "a",
                matching: ObjectQuery(states: [2], newestFirst: true, offset: 5, limit: 3),
                scan: scan
            )
            #expect(page.isCountComplete)
            #expect(page.totalMatches == 100)
            #expect(page.objects.count == 3)
            #expect(page.rowsRead == 1_000)
            #expect(page.largestChunk == 100)
        }
    }

    @Test(arguments: StoreBackend.available)
    func theStoresFiltersStillApply(backend: StoreBackend) async throws {
        try await withManyObjects(backend) { store async throws in
            let scan = ObjectScan(chunkSize: 10, countsEveryMatch: true) { _ in true }
            let page = try await store.objects(tenantID: "a", matching: ObjectQuery(states: [5]), scan: scan)
            #expect(page.objects.map(\.uniqueIdentifier) == ["gone"])
            let none = try await store.objects(tenantID: "a", matching: ObjectQuery(states: []), scan: scan)
            #expect(none.objects.isEmpty && none.rowsRead == 0)
        }
    }

    @Test(arguments: StoreBackend.available)
    func newestFirstPagesInSQL(backend: StoreBackend) async throws {
        try await withManyObjects(backend) { store async throws in
            let page = try await store.objects(
                tenantID: "a",
                matching: ObjectQuery(states: [2], newestFirst: true, offset: 995, limit: 10)
            )
            #expect(page.totalMatches == 1_000)
            #expect(page.objects.count == 5)
            #expect(page.rowsRead == 5)
            #expect(Set(page.objects.map(Self.index)) == Set(0..<5))
        }
    }
}
