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
import Synchronization
import Testing

@testable import RootKeys

/// Records what `SecretBytes.deinit` left in each buffer it freed.
private final class WipeLog: Sendable {
    private let wiped = Mutex<[String: Bool]>([:])

    /// A secret of `count` bytes of `fill` that reports its wipe under `name`.
    func secret(_ name: String, count: Int = 32, fill: UInt8 = 0xA5) -> SecretBytes {
        SecretBytes([UInt8](repeating: fill, count: count)) { [self] buffer in
            let allZero = buffer.allSatisfy { $0 == 0 }
            self.wiped.withLock { $0[name] = allZero }
        }
    }

    /// Whether `name`'s buffer was freed, and zero when it was.
    func wasWiped(_ name: String) -> Bool? { self.wiped.withLock { $0[name] } }
}

private func key(_ uid: String, tenant: String = "t1") -> KeyCache.Key {
    KeyCache.Key(tenantID: tenant, uniqueIdentifier: uid)
}

@Suite("KeyCache")
struct KeyCacheTests {
    @Test("evicts the least recently used entry beyond the entry bound")
    func lruOrder() {
        let clock = ManualClock()
        let cache = KeyCache(configuration: .init(maxEntries: 3), clock: clock)
        for uid in ["a", "b", "c"] { cache.insert(SecretBytes([1, 2, 3]), for: key(uid), rootKeyID: "r") }
        #expect(cache.keysByRecency == [key("c"), key("b"), key("a")])
        #expect(cache.value(for: key("a")) != nil)
        #expect(cache.keysByRecency == [key("a"), key("c"), key("b")])
        cache.insert(SecretBytes([4]), for: key("d"), rootKeyID: "r")
        #expect(cache.keysByRecency == [key("d"), key("a"), key("c")])
        #expect(cache.value(for: key("b")) == nil)
        let statistics = cache.statistics
        #expect(statistics.hits == 1)
        #expect(statistics.misses == 1)
        #expect(statistics.evictions == 1)
        #expect(statistics.entries == 3)
        #expect(statistics.bytes == 3 + 3 + 1)
    }

    @Test("evicts to stay within the byte bound, and does not cache a key larger than it")
    func byteBound() {
        let cache = KeyCache(configuration: .init(maxEntries: 100, maxBytes: 100), clock: ManualClock())
        for uid in ["a", "b"] {
            cache.insert(SecretBytes([UInt8](repeating: 1, count: 40)), for: key(uid), rootKeyID: "r")
        }
        #expect(cache.statistics.bytes == 80)
        cache.insert(SecretBytes([UInt8](repeating: 2, count: 40)), for: key("c"), rootKeyID: "r")
        #expect(cache.keysByRecency == [key("c"), key("b")])
        #expect(cache.statistics.bytes == 80)
        #expect(cache.statistics.evictions == 1)
        // Replacing an entry counts its new size, not both.
        cache.insert(SecretBytes([UInt8](repeating: 3, count: 10)), for: key("b"), rootKeyID: "r")
        #expect(cache.statistics.bytes == 50)
        #expect(cache.statistics.entries == 2)
        #expect(!cache.insert(SecretBytes([UInt8](repeating: 4, count: 101)), for: key("big"), rootKeyID: "r"))
        #expect(cache.value(for: key("big")) == nil)
        #expect(cache.statistics.bytes == 50)
    }

    @Test("an entry expires its TTL after insertion, however often it is read")
    func timeToLive() {
        let clock = ManualClock()
        let cache = KeyCache(configuration: .init(timeToLive: .seconds(60)), clock: clock)
        cache.insert(SecretBytes([1]), for: key("a"), rootKeyID: "r")
        clock.advance(by: .seconds(30))
        cache.insert(SecretBytes([2]), for: key("b"), rootKeyID: "r")
        clock.advance(by: .seconds(29))
        #expect(cache.value(for: key("a"))?.copyBytes() == [1])
        clock.advance(by: .seconds(1))
        #expect(cache.value(for: key("a")) == nil)
        #expect(cache.value(for: key("b"))?.copyBytes() == [2])
        #expect(cache.statistics.expirations == 1)
        clock.advance(by: .seconds(30))
        // Nobody reads: removeExpired drops it anyway, so expired material does not stay in memory.
        #expect(cache.removeExpired() == 1)
        #expect(cache.statistics.entries == 0)
        #expect(cache.statistics.bytes == 0)
    }

    @Test("an entry expires after its idle timeout unless it is read")
    func idleTimeout() {
        let clock = ManualClock()
        let cache = KeyCache(configuration: .init(timeToLive: .seconds(3600), idleTimeout: .seconds(10)), clock: clock)
        cache.insert(SecretBytes([1]), for: key("a"), rootKeyID: "r")
        cache.insert(SecretBytes([2]), for: key("b"), rootKeyID: "r")
        clock.advance(by: .seconds(6))
        #expect(cache.value(for: key("a")) != nil)
        clock.advance(by: .seconds(6))
        #expect(cache.contains(key("a")))
        #expect(!cache.contains(key("b")))
        #expect(cache.removeExpired() == 1)
        #expect(cache.keysByRecency == [key("a")])
        clock.advance(by: .seconds(4))
        #expect(cache.value(for: key("a")) == nil)
        #expect(cache.statistics.expirations == 2)
    }

    @Test("purges one key, a tenant, or a root key, and refuses inserts that raced a purge")
    func purge() {
        let cache = KeyCache(clock: ManualClock())
        cache.insert(SecretBytes([1]), for: key("a", tenant: "t1"), rootKeyID: "r1")
        cache.insert(SecretBytes([2]), for: key("b", tenant: "t1"), rootKeyID: "r1")
        cache.insert(SecretBytes([3]), for: key("a", tenant: "t2"), rootKeyID: "r2")
        cache.insert(SecretBytes([4]), for: key("b", tenant: "t2"), rootKeyID: "r2")
        cache.insert(SecretBytes([5]), for: key("c", tenant: "t3"), rootKeyID: "r3")
        let generation = cache.generation
        #expect(cache.remove(key("a", tenant: "t1")))
        #expect(!cache.remove(key("a", tenant: "t1")))
        #expect(cache.generation != generation)
        #expect(!cache.contains(key("a", tenant: "t1")))
        #expect(cache.contains(key("a", tenant: "t2")))
        #expect(cache.removeAll(tenantID: "t2") == 2)
        #expect(cache.removeAll(rootKeyID: "r1") == 1)
        #expect(cache.keysByRecency == [key("c", tenant: "t3")])
        // An unwrap that read the generation before the purges does not put its key back.
        #expect(!cache.insert(SecretBytes([1]), for: key("a", tenant: "t1"), rootKeyID: "r1", ifGeneration: generation))
        #expect(
            cache.insert(SecretBytes([1]), for: key("a", tenant: "t1"), rootKeyID: "r1", ifGeneration: cache.generation)
        )
        cache.removeAll()
        #expect(cache.statistics.entries == 0)
        #expect(cache.statistics.purged == 6)
    }

    @Test("evicted, expired and purged buffers are released and wiped")
    func zeroization() {
        let log = WipeLog()
        let clock = ManualClock()
        let cache = KeyCache(configuration: .init(maxEntries: 2, timeToLive: .seconds(60)), clock: clock)
        weak var evictedProbe: SecretBytes?
        do {
            let evicted = log.secret("evicted")
            evictedProbe = evicted
            cache.insert(evicted, for: key("evicted"), rootKeyID: "r")
        }
        cache.insert(log.secret("purged"), for: key("purged"), rootKeyID: "r")
        #expect(evictedProbe != nil, "the cache holds the only reference")
        #expect(log.wasWiped("evicted") == nil)
        cache.insert(log.secret("expired"), for: key("expired"), rootKeyID: "r")
        #expect(evictedProbe == nil, "the evicted entry's buffer was freed")
        #expect(log.wasWiped("evicted") == true)
        cache.remove(key("purged"))
        #expect(log.wasWiped("purged") == true)
        clock.advance(by: .seconds(60))
        #expect(log.wasWiped("expired") == nil)
        cache.removeExpired()
        #expect(log.wasWiped("expired") == true)
    }

    @Test("a caller still holding an evicted key keeps its bytes until it lets go")
    func evictionDoesNotPullBytesFromUnderAReader() {
        let log = WipeLog()
        let cache = KeyCache(configuration: .init(maxEntries: 1), clock: ManualClock())
        cache.insert(log.secret("held", fill: 7), for: key("held"), rootKeyID: "r")
        do {
            let reader = cache.value(for: key("held"))
            cache.insert(SecretBytes([1]), for: key("other"), rootKeyID: "r")
            #expect(log.wasWiped("held") == nil)
            #expect(reader?.copyBytes() == [UInt8](repeating: 7, count: 32))
        }
        #expect(log.wasWiped("held") == true)
    }

    @Test("a cache of zero entries caches nothing")
    func disabled() {
        let cache = KeyCache(configuration: .init(maxEntries: 0), clock: ManualClock())
        #expect(!cache.insert(SecretBytes([1]), for: key("a"), rootKeyID: "r"))
        #expect(cache.value(for: key("a")) == nil)
    }

    @Test("many entries: slots are reused and the lists stay consistent")
    func churn() {
        let clock = ManualClock()
        let cache = KeyCache(configuration: .init(maxEntries: 100, timeToLive: .seconds(50)), clock: clock)
        for round in 0..<1_000 {
            cache.insert(SecretBytes([UInt8(truncatingIfNeeded: round)]), for: key("k\(round % 300)"), rootKeyID: "r")
            if round % 7 == 0 { _ = cache.value(for: key("k\((round * 31) % 300)")) }
            if round % 11 == 0 { cache.remove(key("k\((round * 17) % 300)")) }
            clock.advance(by: .milliseconds(100))
        }
        let statistics = cache.statistics
        #expect(statistics.entries <= 100)
        #expect(cache.keysByRecency.count == statistics.entries)
        #expect(Set(cache.keysByRecency).count == statistics.entries)
        #expect(statistics.bytes == statistics.entries)
    }
}
