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
import Testing

@testable import RootKeys

/// The real Local provider behind a counting double, with `count` data keys wrapped under one
/// root key (AAD = tenant/uid), ready to unwrap.
private struct Fixture {
    let counting: CountingRootKeyService
    let requests: [UnwrapRequest]
    let plaintexts: [SecretBytes]

    static func make(_ directory: String, keys count: Int) async throws -> Fixture {
        let local = try await openService(directory)
        let root = try await local.createRootKey(label: "tenant-1").keyID
        var requests: [UnwrapRequest] = []
        var plaintexts: [SecretBytes] = []
        for index in 0..<count {
            let key = KeyCache.Key(tenantID: "tenant-1", uniqueIdentifier: "uid-\(index)")
            let aad = Array("tenant-1/uid-\(index)".utf8)
            let plaintext = try KeyGenerator.randomBytes(count: 32)
            let wrapped = try await local.wrap(plaintext, rootKeyID: root, aad: aad)
            requests.append(UnwrapRequest(key: key, wrapped: wrapped, rootKeyID: root, aad: aad))
            plaintexts.append(plaintext)
        }
        return Fixture(counting: CountingRootKeyService(wrapping: local), requests: requests, plaintexts: plaintexts)
    }
}

@Suite("UnwrapBatcher")
struct UnwrapBatcherTests {
    @Test("1,000 concurrent unwraps of 10 keys cause exactly 10 calls to the service")
    func singleFlight() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try await Fixture.make(directory, keys: 10)
            let cache = KeyCache(clock: ManualClock())
            let batcher = UnwrapBatcher(service: fixture.counting, cache: cache, clock: ManualClock())
            fixture.counting.hold()
            try await withThrowingTaskGroup(of: (Int, SecretBytes).self) { group in
                for caller in 0..<1_000 {
                    let index = caller % 10
                    group.addTask { (index, try await batcher.unwrap(fixture.requests[index]).plaintext) }
                }
                // Every caller is in: 10 unwraps parked in the service, 990 callers joined them.
                try await eventually("10 unwraps park and 990 callers join") {
                    fixture.counting.parkedUnwraps == 10 && batcher.statistics.coalesced == 990
                }
                fixture.counting.release()
                var answers = 0
                for try await (index, plaintext) in group {
                    #expect(plaintext.constantTimeEquals(fixture.plaintexts[index]))
                    answers += 1
                }
                #expect(answers == 1_000)
            }
            #expect(fixture.counting.unwrapCalls == 10)
            #expect(fixture.counting.unwrapCallsByAAD.values.allSatisfy { $0 == 1 })
            #expect(cache.statistics.entries == 10)
            let statistics = batcher.statistics
            #expect(statistics.unwraps == 10)
            #expect(statistics.inFlight == 0)
            #expect(statistics.queued == 0)
            // Later callers find the cache filled.
            for request in fixture.requests { _ = try await batcher.unwrap(request) }
            #expect(fixture.counting.unwrapCalls == 10)
        }
    }

    @Test("never more unwraps in flight than the bound; the rest queue first come, first served")
    func inFlightBound() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try await Fixture.make(directory, keys: 40)
            let batcher = UnwrapBatcher(
                service: fixture.counting,
                cache: KeyCache(clock: ManualClock()),
                configuration: .init(maxInFlight: 4),
                clock: ManualClock()
            )
            fixture.counting.hold()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for request in fixture.requests {
                    group.addTask { _ = try await batcher.unwrap(request) }
                }
                try await eventually("4 unwraps park and 36 keys queue") {
                    fixture.counting.parkedUnwraps == 4 && batcher.statistics.queued == 36
                }
                #expect(batcher.statistics.inFlight == 4)
                // Let them through one at a time: each answer starts exactly one queued key.
                for finished in 1...36 {
                    #expect(fixture.counting.releaseOne())
                    try await eventually("unwrap \(finished + 4) starts") {
                        fixture.counting.unwrapCalls == finished + 4
                    }
                    try await eventually("4 unwraps park again") { fixture.counting.parkedUnwraps == 4 }
                }
                fixture.counting.release()
                try await group.waitForAll()
            }
            #expect(fixture.counting.unwrapCalls == 40)
            #expect(fixture.counting.maxConcurrentUnwraps == 4)
        }
    }

    @Test("a caller past its deadline gets RootKeyError.unavailable; the unwrap goes on for the cache")
    func deadline() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try await Fixture.make(directory, keys: 1)
            let clock = ManualClock()
            let cache = KeyCache(clock: clock)
            let batcher = UnwrapBatcher(
                service: fixture.counting,
                cache: cache,
                configuration: .init(timeout: .seconds(5)),
                clock: clock
            )
            fixture.counting.hold()
            let caller = Task { try await batcher.unwrap(fixture.requests[0]) }
            try await eventually("the unwrap parks and the caller's deadline sleeps") {
                fixture.counting.parkedUnwraps == 1 && clock.sleepers == 1
            }
            clock.advance(by: .seconds(4))
            #expect(clock.sleepers == 1)
            clock.advance(by: .seconds(1))
            do {
                _ = try await caller.value
                Issue.record("the caller should have timed out")
            } catch let error as RootKeyError {
                #expect(error.code == .unavailable)
                #expect(error.reason.hasPrefix("root key service unavailable: "))
            }
            #expect(batcher.statistics.timeouts == 1)
            #expect(batcher.statistics.inFlight == 1)
            fixture.counting.release()
            try await eventually("the unwrap fills the cache") { cache.contains(fixture.requests[0].key) }
            let plaintext = try await batcher.unwrap(fixture.requests[0]).plaintext
            #expect(plaintext.constantTimeEquals(fixture.plaintexts[0]))
            #expect(fixture.counting.unwrapCalls == 1)
        }
    }

    @Test("cancelling one waiting caller does not cancel the shared unwrap")
    func cancellation() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try await Fixture.make(directory, keys: 1)
            let batcher = UnwrapBatcher(
                service: fixture.counting,
                cache: KeyCache(clock: ManualClock()),
                clock: ManualClock()
            )
            fixture.counting.hold()
            let first = Task { try await batcher.unwrap(fixture.requests[0]) }
            try await eventually("the first caller's unwrap parks") { fixture.counting.parkedUnwraps == 1 }
            let second = Task { try await batcher.unwrap(fixture.requests[0]) }
            try await eventually("the second caller joins") { batcher.statistics.coalesced == 1 }
            first.cancel()
            await #expect(throws: CancellationError.self) { try await first.value }
            fixture.counting.release()
            let plaintext = try await second.value.plaintext
            #expect(plaintext.constantTimeEquals(fixture.plaintexts[0]))
            #expect(fixture.counting.unwrapCalls == 1)
        }
    }

    @Test("a queued unwrap that every caller left is never sent")
    func abandonedQueuedUnwrap() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try await Fixture.make(directory, keys: 2)
            let batcher = UnwrapBatcher(
                service: fixture.counting,
                cache: KeyCache(clock: ManualClock()),
                configuration: .init(maxInFlight: 1),
                clock: ManualClock()
            )
            fixture.counting.hold()
            let running = Task { try await batcher.unwrap(fixture.requests[0]) }
            try await eventually("the first unwrap parks") { fixture.counting.parkedUnwraps == 1 }
            let queued = Task { try await batcher.unwrap(fixture.requests[1]) }
            try await eventually("the second key queues") { batcher.statistics.queued == 1 }
            queued.cancel()
            await #expect(throws: CancellationError.self) { try await queued.value }
            #expect(batcher.statistics.queued == 0)
            fixture.counting.release()
            _ = try await running.value
            #expect(fixture.counting.unwrapCalls == 1)
        }
    }

    @Test("the token bucket spaces unwraps out")
    func rateLimit() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try await Fixture.make(directory, keys: 5)
            let clock = ManualClock()
            let batcher = UnwrapBatcher(
                service: fixture.counting,
                cache: KeyCache(clock: clock),
                configuration: .init(rateLimit: RateLimit(unwrapsPerSecond: 10, burst: 2), timeout: .seconds(60)),
                clock: clock
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                for request in fixture.requests {
                    group.addTask { _ = try await batcher.unwrap(request) }
                }
                try await eventually("the burst of 2 goes and 3 keys queue") {
                    fixture.counting.unwrapCalls == 2 && batcher.statistics.queued == 3
                }
                clock.advance(by: .milliseconds(99))
                #expect(fixture.counting.unwrapCalls == 2)
                clock.advance(by: .milliseconds(1))
                try await eventually("one more token, one more unwrap") {
                    fixture.counting.unwrapCalls == 3 && batcher.statistics.queued == 2
                }
                clock.advance(by: .milliseconds(200))
                try await eventually("two more tokens, the last two unwraps") { fixture.counting.unwrapCalls == 5 }
                try await group.waitForAll()
            }
        }
    }

    @Test("a failure reaches every caller of the flight and is not cached")
    func failure() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try await Fixture.make(directory, keys: 1)
            let cache = KeyCache(clock: ManualClock())
            let batcher = UnwrapBatcher(service: fixture.counting, cache: cache, clock: ManualClock())
            fixture.counting.failUnwraps(with: RootKeyError(.deleted, reason: "root key shredded"))
            fixture.counting.hold()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        await #expect(throws: RootKeyError(.deleted, reason: "")) {
                            try await batcher.unwrap(fixture.requests[0])
                        }
                    }
                }
                try await eventually("three callers share one unwrap") {
                    fixture.counting.parkedUnwraps == 1 && batcher.statistics.coalesced == 2
                }
                fixture.counting.release()
                try await group.waitForAll()
            }
            #expect(fixture.counting.unwrapCalls == 1)
            #expect(batcher.statistics.failures == 1)
            #expect(cache.statistics.entries == 0)
            fixture.counting.failUnwraps(with: nil)
            _ = try await batcher.unwrap(fixture.requests[0])
            #expect(fixture.counting.unwrapCalls == 2)
        }
    }
}

@Suite("TokenBucket")
struct TokenBucketTests {
    @Test("starts full, refills at the rate, never beyond the burst")
    func refill() {
        var bucket = TokenBucket(RateLimit(unwrapsPerSecond: 4, burst: 3), now: .zero)
        let burst = (0..<4).map { _ in bucket.take(now: .zero) }
        #expect(burst == [true, true, true, false])
        #expect(bucket.nextToken(now: .zero) == .milliseconds(250))
        let early = bucket.take(now: .milliseconds(249))
        let onTime = bucket.take(now: .milliseconds(250))
        #expect(!early)
        #expect(onTime)
        #expect(bucket.nextToken(now: .seconds(100)) == .seconds(100))
        let later = (0..<4).map { _ in bucket.take(now: .seconds(100)) }
        #expect(later == [true, true, true, false])
    }
}
