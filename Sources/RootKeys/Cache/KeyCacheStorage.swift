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

/// The state behind ``KeyCache``: a slab of nodes threaded on two intrusive doubly linked lists,
/// and an index from tenant and unique identifier to a node. A pure value with no clock and no
/// lock; ``KeyCache`` passes the time in and holds it in a `Mutex`.
///
/// - The LRU list runs from the most recently read or inserted node (head) to the least (tail):
///   bound evictions and idle expiry take from its tail.
/// - The age list runs from the newest insert (head) to the oldest (tail): TTL expiry takes from
///   its tail.
/// - Free slots are reused, so a full cache allocates nothing on insert. Links are slot numbers,
///   not references, so nodes cost no reference counting.
struct KeyCacheStorage {
    private struct Node {
        var key: KeyCache.Key
        var rootKeyID: String
        /// `nil` in a free slot: clearing it releases the cache's reference to the key material.
        var value: SecretBytes?
        var byteCount: Int
        var insertedAt: Duration
        var lastRead: Duration
        var newer = Self.none
        var older = Self.none
        var younger = Self.none
        var elder = Self.none

        static let none = -1
    }

    /// What an operation dropped, for the cache's counters.
    struct Changes {
        var evictions = 0
        var expirations = 0
        var purged = 0
    }

    private enum Removal {
        case evicted, expired, purged, replaced
    }

    private let configuration: KeyCache.Configuration
    private var nodes: [Node] = []
    private var free: [Int] = []
    private var index: [String: [String: Int]] = [:]
    /// Most recently used.
    private var lruHead = Node.none
    /// Least recently used.
    private var lruTail = Node.none
    /// Newest insert.
    private var ageHead = Node.none
    /// Oldest insert.
    private var ageTail = Node.none
    private var changes = Changes()

    private(set) var count = 0
    private(set) var bytes = 0
    private(set) var generation: UInt64 = 0

    init(configuration: KeyCache.Configuration) {
        self.configuration = configuration
    }

    /// Expirations since the last ``takeChanges()``.
    var pendingExpirations: Int { self.changes.expirations }

    mutating func takeChanges() -> Changes {
        defer { self.changes = Changes() }
        return self.changes
    }

    // MARK: - Operations

    mutating func lookup(_ key: KeyCache.Key, now: Duration) -> SecretBytes? {
        self.sweep(now: now)
        guard let slot = self.index[key.tenantID]?[key.uniqueIdentifier] else { return nil }
        if self.isExpired(self.nodes[slot], now: now) {
            self.remove(slot: slot, as: .expired)
            return nil
        }
        self.nodes[slot].lastRead = now
        self.unlinkLRU(slot)
        self.pushLRU(slot)
        return self.nodes[slot].value
    }

    func peek(_ key: KeyCache.Key, now: Duration) -> SecretBytes? {
        guard let slot = self.index[key.tenantID]?[key.uniqueIdentifier] else { return nil }
        return self.isExpired(self.nodes[slot], now: now) ? nil : self.nodes[slot].value
    }

    mutating func insert(_ value: SecretBytes, for key: KeyCache.Key, rootKeyID: String, now: Duration) -> Bool {
        self.sweep(now: now)
        if let slot = self.index[key.tenantID]?[key.uniqueIdentifier] {
            self.remove(slot: slot, as: .replaced)
        }
        guard self.configuration.maxEntries > 0, value.count <= self.configuration.maxBytes else { return false }
        let node = Node(
            key: key,
            rootKeyID: rootKeyID,
            value: value,
            byteCount: value.count,
            insertedAt: now,
            lastRead: now
        )
        let slot: Int
        if let reused = self.free.popLast() {
            slot = reused
            self.nodes[slot] = node
        } else {
            slot = self.nodes.count
            self.nodes.append(node)
        }
        self.index[key.tenantID, default: [:]][key.uniqueIdentifier] = slot
        self.pushLRU(slot)
        self.pushAge(slot)
        self.count += 1
        self.bytes += value.count
        while self.count > self.configuration.maxEntries || self.bytes > self.configuration.maxBytes {
            self.remove(slot: self.lruTail, as: .evicted)
        }
        return true
    }

    /// Runs a purge and bumps the generation; returns how many entries it dropped.
    mutating func purge(_ body: (inout Self) -> Void) -> Int {
        let before = self.changes.purged
        body(&self)
        self.generation &+= 1
        return self.changes.purged - before
    }

    mutating func remove(_ key: KeyCache.Key) {
        guard let slot = self.index[key.tenantID]?[key.uniqueIdentifier] else { return }
        self.remove(slot: slot, as: .purged)
    }

    mutating func removeAll(tenantID: String) {
        guard let slots = self.index[tenantID] else { return }
        for slot in slots.values { self.remove(slot: slot, as: .purged) }
    }

    mutating func removeAll(rootKeyID: String) {
        var slot = self.lruHead
        while slot != Node.none {
            let next = self.nodes[slot].older
            if self.nodes[slot].rootKeyID == rootKeyID { self.remove(slot: slot, as: .purged) }
            slot = next
        }
    }

    mutating func removeAll() {
        while self.lruTail != Node.none { self.remove(slot: self.lruTail, as: .purged) }
        // Give the memory back: the slab, the free list and the index shrink to nothing.
        self.nodes = []
        self.free = []
        self.index = [:]
    }

    /// Drops expired entries from the tails of both lists.
    mutating func sweep(now: Duration) {
        while self.ageTail != Node.none, now - self.nodes[self.ageTail].insertedAt >= self.configuration.timeToLive {
            self.remove(slot: self.ageTail, as: .expired)
        }
        if let idle = self.configuration.idleTimeout {
            while self.lruTail != Node.none, now - self.nodes[self.lruTail].lastRead >= idle {
                self.remove(slot: self.lruTail, as: .expired)
            }
        }
    }

    // MARK: - Nodes and lists

    private func isExpired(_ node: Node, now: Duration) -> Bool {
        if now - node.insertedAt >= self.configuration.timeToLive { return true }
        if let idle = self.configuration.idleTimeout, now - node.lastRead >= idle { return true }
        return false
    }

    private mutating func remove(slot: Int, as removal: Removal) {
        let key = self.nodes[slot].key
        self.unlinkLRU(slot)
        self.unlinkAge(slot)
        if self.index[key.tenantID]?.removeValue(forKey: key.uniqueIdentifier) != nil,
            self.index[key.tenantID]?.isEmpty == true
        {
            self.index.removeValue(forKey: key.tenantID)
        }
        self.count -= 1
        self.bytes -= self.nodes[slot].byteCount
        // The cache's reference goes here; when it was the last one, SecretBytes zeroes the buffer.
        self.nodes[slot].value = nil
        self.nodes[slot].byteCount = 0
        self.free.append(slot)
        switch removal {
        case .evicted: self.changes.evictions += 1
        case .expired: self.changes.expirations += 1
        case .purged: self.changes.purged += 1
        case .replaced: break
        }
    }

    private mutating func pushLRU(_ slot: Int) {
        self.nodes[slot].newer = Node.none
        self.nodes[slot].older = self.lruHead
        if self.lruHead != Node.none { self.nodes[self.lruHead].newer = slot }
        self.lruHead = slot
        if self.lruTail == Node.none { self.lruTail = slot }
    }

    private mutating func unlinkLRU(_ slot: Int) {
        let (newer, older) = (self.nodes[slot].newer, self.nodes[slot].older)
        if newer != Node.none { self.nodes[newer].older = older } else { self.lruHead = older }
        if older != Node.none { self.nodes[older].newer = newer } else { self.lruTail = newer }
        self.nodes[slot].newer = Node.none
        self.nodes[slot].older = Node.none
    }

    private mutating func pushAge(_ slot: Int) {
        self.nodes[slot].younger = Node.none
        self.nodes[slot].elder = self.ageHead
        if self.ageHead != Node.none { self.nodes[self.ageHead].younger = slot }
        self.ageHead = slot
        if self.ageTail == Node.none { self.ageTail = slot }
    }

    private mutating func unlinkAge(_ slot: Int) {
        let (younger, elder) = (self.nodes[slot].younger, self.nodes[slot].elder)
        if younger != Node.none { self.nodes[younger].elder = elder } else { self.ageHead = elder }
        if elder != Node.none { self.nodes[elder].younger = younger } else { self.ageTail = younger }
        self.nodes[slot].younger = Node.none
        self.nodes[slot].elder = Node.none
    }

    /// The keys from most to least recently used (tests).
    var keysByRecency: [KeyCache.Key] {
        var keys: [KeyCache.Key] = []
        var slot = self.lruHead
        while slot != Node.none {
            keys.append(self.nodes[slot].key)
            slot = self.nodes[slot].older
        }
        return keys
    }
}
