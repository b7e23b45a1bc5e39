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

import KeystormTestSupport
import Metrics
import MetricsTestKit
import RootKeys
import Synchronization
import Testing

/// A root-key service answering from memory: wraps are the plaintext's length, unwraps give
/// 32 bytes of 0x42 or the configured error.
private final class MemoryRootKeys: RootKeyService {
    let failure = Mutex<RootKeyError?>(nil)
    var providerName: String { "memory" }

    func createRootKey(label: String) async throws -> RootKeyHandle { RootKeyHandle(keyID: "rk", version: 1) }
    func wrap(_ plaintext: SecretBytes, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey {
        WrappedKey(ciphertext: [UInt8(plaintext.count)], rootKeyVersion: 1)
    }
    func unwrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> UnwrapResult {
        if let failure = self.failure.withLock({ $0 }) { throw failure }
        return UnwrapResult(plaintext: SecretBytes([UInt8](repeating: 0x42, count: 32)))
    }
    func rewrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey { wrapped }
    func rotate(rootKeyID: String) async throws -> RootKeyHandle { RootKeyHandle(keyID: rootKeyID, version: 2) }
    func delete(rootKeyID: String) async throws {}
    func info(rootKeyID: String) async throws -> RootKeyInfo {
        RootKeyInfo(keyID: rootKeyID, label: "", state: .active, currentVersion: 1)
    }
}

private func request(_ uid: String) -> UnwrapRequest {
    UnwrapRequest(
        key: KeyCache.Key(tenantID: "t1", uniqueIdentifier: uid),
        wrapped: WrappedKey(ciphertext: [1], rootKeyVersion: 1),
        rootKeyID: "rk",
        aad: Array(uid.utf8)
    )
}

@Suite("RootKeys metrics (swift-metrics)")
struct RootKeysMetricsTests {
    @Test("The key cache reports hits, misses, evictions by reason, entries and bytes")
    func keyCache() throws {
        let metrics = TestMetrics()
        let clock = ManualClock()
        let cache = KeyCache(
            configuration: .init(maxEntries: 2, timeToLive: .seconds(60)),
            clock: clock,
            metrics: metrics
        )
        let key = { (uid: String) in KeyCache.Key(tenantID: "t1", uniqueIdentifier: uid) }
        cache.insert(SecretBytes([1, 2, 3]), for: key("a"), rootKeyID: "r")
        cache.insert(SecretBytes([4, 5]), for: key("b"), rootKeyID: "r")
        #expect(cache.value(for: key("a")) != nil)
        #expect(cache.value(for: key("x")) == nil)
        cache.insert(SecretBytes([6]), for: key("c"), rootKeyID: "r")  // evicts b, the least recently used
        cache.remove(key("c"))
        clock.advance(by: .seconds(61))
        cache.removeExpired()

        #expect(try metrics.expectCounter(RootKeysMetricNames.cacheHits).totalValue == 1)
        #expect(try metrics.expectCounter(RootKeysMetricNames.cacheMisses).totalValue == 1)
        #expect(try metrics.expectCounter(RootKeysMetricNames.cacheEvictions, [("reason", "capacity")]).totalValue == 1)
        #expect(try metrics.expectCounter(RootKeysMetricNames.cacheEvictions, [("reason", "purged")]).totalValue == 1)
        #expect(try metrics.expectCounter(RootKeysMetricNames.cacheEvictions, [("reason", "expired")]).totalValue == 1)
        #expect(try metrics.expectGauge(RootKeysMetricNames.cacheEntries).lastValue == 0)
        #expect(try metrics.expectGauge(RootKeysMetricNames.cacheBytes).values.max() == 5)
        #expect(try metrics.expectGauge(RootKeysMetricNames.cacheBytes).lastValue == 0)
    }

    @Test("Concurrent callers of one key make one flight: its size, the joins and the in-flight gauge are reported")
    func batcherFlights() async throws {
        let metrics = TestMetrics()
        let service = CountingRootKeyService(wrapping: MemoryRootKeys())
        let batcher = UnwrapBatcher(service: service, cache: KeyCache(metrics: metrics), metrics: metrics)
        service.hold()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<3 {
                group.addTask { try await batcher.unwrap(request("k1")).plaintext.count }
            }
            try await eventually("three callers share one parked unwrap") {
                service.parkedUnwraps == 1 && batcher.statistics.coalesced == 2
            }
            #expect(try metrics.expectGauge(RootKeysMetricNames.unwrapInFlight).lastValue == 1)
            service.release()
            for try await count in group { #expect(count == 32) }
        }
        #expect(service.unwrapCalls == 1)
        #expect(try metrics.expectRecorder(RootKeysMetricNames.unwrapFlightCallers).values == [3])
        #expect(try metrics.expectCounter(RootKeysMetricNames.unwrapCoalesced).totalValue == 2)
        #expect(try metrics.expectGauge(RootKeysMetricNames.unwrapInFlight).lastValue == 0)
    }

    @Test("Root-key calls are counted by provider, operation and result, rate-limited included, and timed")
    func meteredService() async throws {
        let metrics = TestMetrics()
        let base = MemoryRootKeys()
        let service = MeteredRootKeyService(base, factory: metrics)
        _ = try await service.wrap(SecretBytes([1, 2, 3]), rootKeyID: "rk", aad: [])
        _ = try await service.unwrap(WrappedKey(ciphertext: [3], rootKeyVersion: 1), rootKeyID: "rk", aad: [])
        base.failure.withLock { $0 = RootKeyError(.rateLimited, reason: "429 from the service") }
        await #expect(throws: RootKeyError.self) {
            _ = try await service.unwrap(WrappedKey(ciphertext: [3], rootKeyVersion: 1), rootKeyID: "rk", aad: [])
        }
        let batch = (0..<4).map { _ in
            RootKeyBatchItem(wrapped: WrappedKey(ciphertext: [3], rootKeyVersion: 1), rootKeyID: "rk", aad: [])
        }
        let results = await service.unwrap(batch: batch)
        #expect(results.count == 4)

        let calls = RootKeysMetricNames.rootKeyCalls
        #expect(
            try metrics.expectCounter(calls, [("provider", "memory"), ("operation", "wrap"), ("result", "success")])
                .totalValue == 1
        )
        #expect(
            try metrics.expectCounter(calls, [("provider", "memory"), ("operation", "unwrap"), ("result", "success")])
                .totalValue == 1
        )
        #expect(
            try metrics.expectCounter(
                calls,
                [("provider", "memory"), ("operation", "unwrap"), ("result", "rate_limited")]
            ).totalValue == 5
        )
        let timer = try metrics.expectTimer(
            RootKeysMetricNames.rootKeyCallDuration,
            [("provider", "memory"), ("operation", "unwrap")]
        )
        #expect(timer.values.count == 6)
        #expect(
            try metrics.expectRecorder(RootKeysMetricNames.unwrapBatchSize, [("provider", "memory")]).values == [
                1, 1, 4,
            ]
        )
        #expect(service.unwrapBatchLimit == base.unwrapBatchLimit)
    }
}
