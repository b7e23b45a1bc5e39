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

internal import CKeystorm
internal import Synchronization

/// The source a per-source limit counts a peer under: an IPv4 address, or an IPv6 /64 (one host or
/// site normally holds a whole /64, so counting single IPv6 addresses would limit nothing).
struct SourceKey: Hashable {
    var high: UInt64
    var low: UInt64

    /// The source of the peer of the connected socket `fd`, `nil` when it cannot be read.
    init?(fd: Int32) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        guard CKeystorm_peer_source(fd, &high, &low) == 0 else { return nil }
        self.high = high
        self.low = low
    }
}

/// How many connections of each source are in their handshake, over all loops.
///
/// A `Mutex` because the loops share it; it is taken twice per connection (accept, handshake end).
final class SourceTable: Sendable {
    private let counts = Mutex<[SourceKey: Int]>([:])

    /// Counts one more handshake from `source` unless it already has `limit`.
    /// - Returns: `false` when the source is at its limit (nothing is counted).
    func reserve(_ source: SourceKey, limit: Int) -> Bool {
        self.counts.withLock { counts in
            let count = counts[source, default: 0]
            guard count < limit else { return false }
            counts[source] = count + 1
            return true
        }
    }

    /// Ends one handshake from `source`.
    func release(_ source: SourceKey) {
        self.counts.withLock { counts in
            guard let count = counts[source] else { return }
            counts[source] = count > 1 ? count - 1 : nil
        }
    }

    /// The number of sources with a handshake in progress.
    var sourceCount: Int { self.counts.withLock { $0.count } }
}

/// One loop's connections that have not finished their handshake, oldest first: the order in
/// which they are evicted when the loop's handshake share is full. Loop thread only.
///
/// An intrusive doubly linked list through ``ConnectionCore``, so that adding, removing (when a
/// handshake ends) and taking the oldest are O(1). The list holds its cores strongly from the
/// oldest one; the links back are `unowned(unsafe)`, valid because a core leaves the list before
/// the list lets go of it.
struct HandshakeQueue {
    private(set) var count = 0
    private(set) var oldest: ConnectionCore?
    private unowned(unsafe) var newest: ConnectionCore?

    /// Appends `core` as the newest.
    mutating func append(_ core: ConnectionCore) {
        precondition(!core.inHandshakeQueue)
        core.inHandshakeQueue = true
        core.handshakeOlder = self.newest
        core.handshakeNewer = nil
        if let newest = self.newest {
            newest.handshakeNewer = core
        } else {
            self.oldest = core
        }
        self.newest = core
        self.count += 1
    }

    /// Removes `core` if it is in the queue.
    mutating func remove(_ core: ConnectionCore) {
        guard core.inHandshakeQueue else { return }
        core.inHandshakeQueue = false
        let older = core.handshakeOlder
        let newer = core.handshakeNewer
        if let older {
            older.handshakeNewer = newer
        } else {
            self.oldest = newer
        }
        if let newer {
            newer.handshakeOlder = older
        } else {
            self.newest = older
        }
        core.handshakeOlder = nil
        core.handshakeNewer = nil
        self.count -= 1
    }
}
