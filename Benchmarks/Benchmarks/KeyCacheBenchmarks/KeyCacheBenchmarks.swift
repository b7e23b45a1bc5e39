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
import RootKeys

let benchmarks: @Sendable () -> Void = {
    // One iteration is 1,000 operations (`.kilo`); the text output divides by that, the JSON files
    // under Thresholds/ hold per-iteration values. Names have no spaces (see KMIPCodecBenchmarks).
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal, .cpuTotal],
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: 1_000
    )

    let scratch = ScratchDirectory(name: "keycache")

    // KeyAccess.unwrap of a key that is in the cache: the path of every Get but the first during a
    // boot storm. A hit allocates nothing, so the threshold allows no growth at all: a tolerance in
    // per cent of 0 would let any number through.
    Benchmark(
        "KeyAccess.unwrapHit",
        configuration: .init(
            metrics: [.throughput, .wallClock, .mallocCountTotal, .cpuTotal, .mallocFreeDelta],
            thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])]
        )
    ) { (benchmark: Benchmark, fixture: HitFixture) in
        for _ in benchmark.scaledIterations {
            blackHole(try await fixture.access.unwrap(fixture.request))
        }
    } setup: {
        let directory = try scratch.create()
        let local = try await LocalRootKeyService.open(.init(dataDirectory: directory))
        let rootKey = try await local.createRootKey(label: "bench")
        let access = KeyAccess(service: local)
        let key = KeyCache.Key(tenantID: "tenant-a", uniqueIdentifier: "9b7e3f0c-56d1-4a8e-b1f2-0d6c3a5e7f10")
        let aad = Array("tenant-a/\(key.uniqueIdentifier)".utf8)
        let plaintext = SecretBytes((0..<32).map { UInt8($0) })
        let wrapped = try await local.wrap(plaintext, rootKeyID: rootKey.keyID, aad: aad)
        let request = UnwrapRequest(key: key, wrapped: wrapped, rootKeyID: rootKey.keyID, aad: aad)
        // The first unwrap goes through the batcher to the service and fills the cache.
        _ = try await access.unwrap(request)
        guard access.batcher.statistics.unwraps == 1, access.cache.contains(key) else {
            throw BenchmarkSetupError(reason: "the first unwrap did not fill the cache")
        }
        scratch.keep(local)
        return HitFixture(access: access, request: request)
    } teardown: {
        scratch.remove()
    }

    // Inserts into a full cache of 1,000 entries, each of a key that is not in it, so each insert
    // also evicts the least recently used entry: the cache's work when a storm touches more keys
    // than `cache.max-entries`.
    Benchmark(
        "KeyCache.insertEvictChurn",
        configuration: .init(
            metrics: [.throughput, .wallClock, .mallocCountTotal, .cpuTotal],
            thresholds: [.mallocCountTotal: .init(relative: [.p90: 2.0])]
        )
    ) { (benchmark: Benchmark, fixture: ChurnFixture) in
        for _ in benchmark.scaledIterations {
            blackHole(fixture.insertNext())
        }
    } setup: {
        let fixture = ChurnFixture(capacity: 1_000)
        for _ in 0..<2_000 { fixture.insertNext() }
        guard fixture.cache.statistics.entries == 1_000, fixture.cache.statistics.evictions == 1_000 else {
            throw BenchmarkSetupError(reason: "the cache did not fill to its bound and evict")
        }
        return fixture
    }
}

struct HitFixture: Sendable {
    var access: KeyAccess
    var request: UnwrapRequest
}

/// A cache bounded at `capacity` entries and twice as many keys, inserted round-robin.
final class ChurnFixture: @unchecked Sendable {
    // Benchmark runs the iterations one after another on one task; `next` needs no lock.
    let cache: KeyCache
    private let keys: [KeyCache.Key]
    private let value = SecretBytes((0..<32).map { UInt8($0) })
    private var next = 0

    init(capacity: Int) {
        self.cache = KeyCache(configuration: .init(maxEntries: capacity))
        self.keys = (0..<(2 * capacity)).map {
            KeyCache.Key(
                tenantID: "tenant-\($0 % 8)",
                uniqueIdentifier: "00000000-0000-4000-8000-\(100_000_000_000 + $0)"
            )
        }
    }

    @discardableResult
    func insertNext() -> Bool {
        let key = self.keys[self.next]
        self.next = self.next + 1 == self.keys.count ? 0 : self.next + 1
        return self.cache.insert(self.value, for: key, rootKeyID: "root-key")
    }
}

struct BenchmarkSetupError: Error, CustomStringConvertible {
    var reason: String
    var description: String { self.reason }
}
