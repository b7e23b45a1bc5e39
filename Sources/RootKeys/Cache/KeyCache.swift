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

public import Metrics
import Synchronization

/// A bounded LRU cache of unwrapped data keys, keyed by tenant and unique identifier.
///
/// - Bounds: at most ``Configuration/maxEntries`` entries and ``Configuration/maxBytes`` bytes of
///   key material; inserting past either evicts the least recently used entries.
/// - Expiry: an entry lives at most ``Configuration/timeToLive`` after it was inserted, and at most
///   ``Configuration/idleTimeout`` after it was last read. Expired entries are dropped by every
///   operation (from the tails of the LRU and age lists, O(1) amortised) and by ``removeExpired()``.
/// - Zeroization: the cache holds the only ``SecretBytes`` reference it was given once the caller is
///   done with it; dropping an entry releases that reference, and ``SecretBytes`` zeroes its buffer
///   when the last reference goes. A caller still encoding a response keeps its bytes until then.
/// - Purge: ``remove(_:)`` (Revoke/Destroy of one key), ``removeAll(tenantID:)``,
///   ``removeAll(rootKeyID:)`` (crypto-shred) and ``removeAll()``. Each purge bumps
///   ``generation``, so an unwrap that started before it cannot re-insert what was purged (see
///   ``insert(_:for:rootKeyID:ifGeneration:)``).
/// - Never persisted, never printed. Lookups, inserts and single removals are O(1).
///
/// Synchronous and `Mutex`-protected (house rule 6); the counters are atomics that metrics read
/// without taking the lock.
public final class KeyCache: Sendable {
    /// Where a cached key belongs: its tenant and its KMIP unique identifier.
    public struct Key: Hashable, Sendable, CustomStringConvertible {
        public var tenantID: String
        public var uniqueIdentifier: String

        public init(tenantID: String, uniqueIdentifier: String) {
            self.tenantID = tenantID
            self.uniqueIdentifier = uniqueIdentifier
        }

        public var description: String { "\(self.tenantID)/\(self.uniqueIdentifier)" }
    }

    /// The cache's bounds and timeouts.
    public struct Configuration: Sendable {
        /// The most entries held; 0 disables the cache.
        public var maxEntries: Int
        /// The most bytes of key material held (the sum of ``SecretBytes/count``). A key larger than
        /// this is not cached.
        public var maxBytes: Int
        /// How long an entry may live after it was inserted.
        public var timeToLive: Duration
        /// How long an entry may live after it was last read; `nil` for no idle timeout.
        public var idleTimeout: Duration?

        /// - Parameters:
        ///   - maxEntries: Default 100,000.
        ///   - maxBytes: Default 64 MiB.
        ///   - timeToLive: Default 1 hour: the backstop for changes made on other nodes.
        ///   - idleTimeout: Default none.
        public init(
            maxEntries: Int = 100_000,
            maxBytes: Int = 64 << 20,
            timeToLive: Duration = .seconds(3600),
            idleTimeout: Duration? = nil
        ) {
            self.maxEntries = maxEntries
            self.maxBytes = maxBytes
            self.timeToLive = timeToLive
            self.idleTimeout = idleTimeout
        }
    }

    /// A snapshot of the counters, read without the lock.
    public struct Statistics: Hashable, Sendable {
        /// Lookups that found a live entry.
        public var hits: Int
        /// Lookups that found nothing, or only an expired entry.
        public var misses: Int
        /// Entries dropped to stay within the entry or byte bound.
        public var evictions: Int
        /// Entries dropped because their TTL or idle timeout passed.
        public var expirations: Int
        /// Entries dropped by a purge (one key, a tenant, a root key or all).
        public var purged: Int
        /// Entries held now.
        public var entries: Int
        /// Bytes of key material held now.
        public var bytes: Int
    }

    /// The configuration it was created with.
    public let configuration: Configuration
    private let clock: any MonotonicClock
    private let storage: Mutex<KeyCacheStorage>
    private let hits = Atomic<Int>(0)
    private let misses = Atomic<Int>(0)
    private let evictions = Atomic<Int>(0)
    private let expirations = Atomic<Int>(0)
    private let purged = Atomic<Int>(0)
    private let entries = Atomic<Int>(0)
    private let bytes = Atomic<Int>(0)
    private let purgeGeneration = Atomic<UInt64>(0)
    private let metrics: KeyCacheMetrics

    /// Creates an empty cache.
    ///
    /// - Parameters:
    ///   - configuration: Bounds and timeouts.
    ///   - clock: The time source for TTL and idle timeout; tests pass a manual one.
    ///   - metrics: Where the `keystorm_key_cache_*` metrics go; the process-wide factory by default.
    public init(
        configuration: Configuration = Configuration(),
        clock: any MonotonicClock = .continuous,
        metrics: any MetricsFactory = MetricsSystem.factory
    ) {
        self.configuration = configuration
        self.clock = clock
        self.storage = Mutex(KeyCacheStorage(configuration: configuration))
        self.metrics = KeyCacheMetrics(factory: metrics)
    }

    /// The key material cached for `key`, marking it most recently used; `nil` on a miss.
    public func value(for key: Key) -> SecretBytes? {
        let now = self.clock.now
        let value = self.update { $0.lookup(key, now: now) }
        if value == nil {
            self.misses.add(1, ordering: .relaxed)
            self.metrics.misses.increment()
        } else {
            self.hits.add(1, ordering: .relaxed)
            self.metrics.hits.increment()
        }
        return value
    }

    /// Whether `key` has a live entry; unlike ``value(for:)`` it counts nothing and does not
    /// change the LRU order.
    public func contains(_ key: Key) -> Bool {
        let now = self.clock.now
        return self.storage.withLock { $0.peek(key, now: now) } != nil
    }

    /// The entry for `key` without counting a hit or miss or changing the LRU order.
    func peek(_ key: Key) -> SecretBytes? {
        let now = self.clock.now
        return self.storage.withLock { $0.peek(key, now: now) }
    }

    /// Caches `value` for `key`, replacing any entry, then evicts the least recently used entries
    /// beyond the bounds.
    ///
    /// - Parameters:
    ///   - value: The unwrapped key material. The cache keeps a reference, not a copy.
    ///   - key: The tenant and unique identifier.
    ///   - rootKeyID: The root key it was unwrapped with, for ``removeAll(rootKeyID:)``.
    ///   - generation: When given, the insert is dropped if any purge happened since ``generation``
    ///     returned this value (the unwrap raced a Revoke, Destroy or shred).
    /// - Returns: Whether the value was cached.
    @discardableResult
    public func insert(
        _ value: SecretBytes,
        for key: Key,
        rootKeyID: String,
        ifGeneration generation: UInt64? = nil
    ) -> Bool {
        let now = self.clock.now
        return self.update { storage in
            if let generation, generation != storage.generation { return false }
            return storage.insert(value, for: key, rootKeyID: rootKeyID, now: now)
        }
    }

    /// Drops the entry for `key` (Revoke or Destroy of one key).
    ///
    /// - Returns: Whether there was one.
    @discardableResult
    public func remove(_ key: Key) -> Bool {
        self.update { $0.purge { $0.remove(key) } } > 0
    }

    /// Drops every entry of a tenant.
    ///
    /// - Returns: The number of entries dropped.
    @discardableResult
    public func removeAll(tenantID: String) -> Int {
        self.update { $0.purge { $0.removeAll(tenantID: tenantID) } }
    }

    /// Drops every entry unwrapped with a root key (crypto-shred, or the key disabled). O(entries).
    ///
    /// - Returns: The number of entries dropped.
    @discardableResult
    public func removeAll(rootKeyID: String) -> Int {
        self.update { $0.purge { $0.removeAll(rootKeyID: rootKeyID) } }
    }

    /// Drops every entry.
    public func removeAll() {
        _ = self.update { $0.purge { $0.removeAll() } }
    }

    /// Drops every expired entry now; call it periodically so that an idle cache does not keep
    /// expired key material in memory.
    ///
    /// - Returns: The number of entries dropped.
    @discardableResult
    public func removeExpired() -> Int {
        let now = self.clock.now
        return self.update { storage in
            let before = storage.pendingExpirations
            storage.sweep(now: now)
            return storage.pendingExpirations - before
        }
    }

    /// A number that changes on every purge. Read it before an unwrap and pass it to
    /// ``insert(_:for:rootKeyID:ifGeneration:)``.
    public var generation: UInt64 { self.purgeGeneration.load(ordering: .acquiring) }

    /// The counters now.
    public var statistics: Statistics {
        Statistics(
            hits: self.hits.load(ordering: .relaxed),
            misses: self.misses.load(ordering: .relaxed),
            evictions: self.evictions.load(ordering: .relaxed),
            expirations: self.expirations.load(ordering: .relaxed),
            purged: self.purged.load(ordering: .relaxed),
            entries: self.entries.load(ordering: .relaxed),
            bytes: self.bytes.load(ordering: .relaxed)
        )
    }

    /// Runs `body` on the storage under the lock, then publishes what it changed to the atomics.
    private func update<Result: Sendable>(_ body: (inout KeyCacheStorage) -> Result) -> Result {
        self.storage.withLock { storage in
            let result = body(&storage)
            let changes = storage.takeChanges()
            if changes.evictions > 0 {
                self.evictions.add(changes.evictions, ordering: .relaxed)
                self.metrics.evictedForCapacity.increment(by: changes.evictions)
            }
            if changes.expirations > 0 {
                self.expirations.add(changes.expirations, ordering: .relaxed)
                self.metrics.expired.increment(by: changes.expirations)
            }
            if changes.purged > 0 {
                self.purged.add(changes.purged, ordering: .relaxed)
                self.metrics.purged.increment(by: changes.purged)
            }
            if self.entries.exchange(storage.count, ordering: .relaxed) != storage.count {
                self.metrics.entries.record(storage.count)
            }
            if self.bytes.exchange(storage.bytes, ordering: .relaxed) != storage.bytes {
                self.metrics.bytes.record(storage.bytes)
            }
            self.purgeGeneration.store(storage.generation, ordering: .releasing)
            return result
        }
    }
}

extension KeyCache {
    /// The cached keys from most to least recently used (tests).
    var keysByRecency: [Key] {
        self.storage.withLock { $0.keysByRecency }
    }
}
