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
import KeystormTestSupport
import RootKeys

let benchmarks: @Sendable () -> Void = {
    // One iteration is one operation: a miss costs tens of microseconds, so per-iteration overhead
    // does not show. Names have no spaces (see KMIPCodecBenchmarks).
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal, .cpuTotal, .mallocFreeDelta],
        warmupIterations: 10,
        scalingFactor: .one,
        maxDuration: .seconds(1),
        maxIterations: 10_000,
        thresholds: [.mallocCountTotal: .init(relative: [.p90: 2.0])]
    )

    let scratch = ScratchDirectory(name: "unwrap")

    // UnwrapBatcher.unwrap with no cache: every call starts a flight to the Local root-key service
    // (AES-256-GCM through OpenSSL), waits for it under the 10 s deadline, and returns the key.
    Benchmark("UnwrapBatcher.miss") { (benchmark: Benchmark, fixture: MissFixture) in
        for _ in benchmark.scaledIterations {
            blackHole(try await fixture.batcher.unwrap(fixture.request))
        }
    } setup: {
        let fixture = try await MissFixture.make(scratch, cached: false)
        guard try await fixture.batcher.unwrap(fixture.request).plaintext.count == 32 else {
            throw BenchmarkSetupError(reason: "the unwrap did not return the 32-byte key")
        }
        return fixture
    } teardown: {
        scratch.remove()
    }

    // The miss as a Get takes it: KeyAccess.unwrap finds nothing in the cache, goes through the
    // batcher, and fills the cache; the entry is purged again (as a Revoke would) for the next one.
    Benchmark("KeyAccess.missAndFill") { (benchmark: Benchmark, fixture: MissFixture) in
        for _ in benchmark.scaledIterations {
            fixture.access.purge(fixture.request.key)
            blackHole(try await fixture.access.unwrap(fixture.request))
        }
    } setup: {
        let fixture = try await MissFixture.make(scratch, cached: true)
        _ = try await fixture.access.unwrap(fixture.request)
        guard fixture.access.cache.contains(fixture.request.key) else {
            throw BenchmarkSetupError(reason: "the unwrap did not fill the cache")
        }
        return fixture
    } teardown: {
        scratch.remove()
    }

    // 100 concurrent callers of one key that is not cached: one flight to the service, 99 callers
    // join it. The service holds the flight until all 100 have joined, so every iteration does
    // the same work whatever the scheduling: 1 unwrap, 99 coalesced, 100 results.
    Benchmark(
        "UnwrapBatcher.singleFlight100Callers",
        configuration: .init(maxDuration: .seconds(2), maxIterations: 1_000)
    ) { (benchmark: Benchmark, fixture: MissFixture) in
        for _ in benchmark.scaledIterations {
            blackHole(try await fixture.singleFlight(callers: 100))
        }
    } setup: {
        let fixture = try await MissFixture.make(scratch, cached: false)
        let unwrapsBefore = fixture.batcher.statistics.unwraps
        guard try await fixture.singleFlight(callers: 100) == 100 * 32,
            fixture.batcher.statistics.unwraps == unwrapsBefore + 1
        else {
            throw BenchmarkSetupError(reason: "100 callers did not share one unwrap")
        }
        return fixture
    } teardown: {
        scratch.remove()
    }
}

/// A Local root-key service in a temporary directory, one wrapped 32-byte key, and a batcher in
/// front of the service (through a ``CountingRootKeyService``, which can hold unwraps).
struct MissFixture: Sendable {
    var counting: CountingRootKeyService
    /// With a cache (for ``access``) or without one.
    var batcher: UnwrapBatcher
    var access: KeyAccess
    var request: UnwrapRequest

    static func make(_ scratch: ScratchDirectory, cached: Bool) async throws -> MissFixture {
        let directory = try scratch.create()
        let local = try await LocalRootKeyService.open(.init(dataDirectory: directory))
        scratch.keep(local)
        let rootKey = try await local.createRootKey(label: "bench")
        let key = KeyCache.Key(tenantID: "tenant-a", uniqueIdentifier: "9b7e3f0c-56d1-4a8e-b1f2-0d6c3a5e7f10")
        let aad = Array("tenant-a/\(key.uniqueIdentifier)".utf8)
        let wrapped = try await local.wrap(SecretBytes((0..<32).map { UInt8($0) }), rootKeyID: rootKey.keyID, aad: aad)
        let counting = CountingRootKeyService(wrapping: local)
        let access = KeyAccess(service: counting)
        return MissFixture(
            counting: counting,
            batcher: cached ? access.batcher : UnwrapBatcher(service: counting, cache: nil),
            access: access,
            request: UnwrapRequest(key: key, wrapped: wrapped, rootKeyID: rootKey.keyID, aad: aad)
        )
    }

    /// Starts `callers` concurrent unwraps of the key, lets the flight go once all have joined it,
    /// and returns the bytes they got in total.
    func singleFlight(callers: Int) async throws -> Int {
        self.counting.hold()
        let joinedBefore = self.batcher.statistics.coalesced
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<callers {
                group.addTask { try await self.batcher.unwrap(self.request).plaintext.count }
            }
            while self.counting.parkedUnwraps < 1 || self.batcher.statistics.coalesced - joinedBefore < callers - 1 {
                await Task.yield()
            }
            self.counting.release()
            return try await group.reduce(0, +)
        }
    }
}

struct BenchmarkSetupError: Error, CustomStringConvertible {
    var reason: String
    var description: String { self.reason }
}
