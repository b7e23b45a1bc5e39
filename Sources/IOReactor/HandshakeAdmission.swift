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

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The source of the peer of the connected socket `fd`, `nil` when it cannot be read.
    init?(fd: Int32) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        guard CKeystorm_peer_source(fd, &high, &low) == 0 else { return nil }
        self.high = high
        self.low = low
    }
}

/// How many connections of each source are in their handshake, over all loops, and which sources
/// have recently completed a mutual-TLS handshake (known sources).
///
/// A `Mutex` because the loops share it; it is taken twice per connection (accept, handshake end)
/// and once more when a handshake succeeds.
///
/// A known source has proven, with a client certificate the server trusts, that it is one of
/// Keystorm's clients. Its new connections run at the loops' normal priority; connections from
/// other sources run at low priority, so the work a flood of connections without a certificate
/// causes (a ClientHello costs about a handshake's CPU) waits behind the real clients' work
/// instead of ahead of it. Nobody becomes known without completing a handshake, and after a
/// restart every source is unknown, so a boot storm's first connections are served in arrival
/// order as before.
final class SourceTable: Sendable {
    /// What ``admit(_:limit:now:)`` decided.
    enum Admission: Equatable {
        /// The source is at its limit of handshakes in progress: nothing is counted.
        case refused
        /// Counted; `known` tells whether the source completed a handshake recently.
        case admitted(known: Bool)
    }

    private struct State {
        var counts: [SourceKey: Int] = [:]
        /// Known sources and when (monotonic nanoseconds) each last completed a handshake.
        var known: [SourceKey: Int64] = [:]
    }

    private let state = Mutex(State())
    /// How long a source stays known after its last completed handshake.
    let knownLifetime: Int64
    /// At most this many known sources are kept (the least recently seen go first).
    let maxKnownSources: Int

    init(knownLifetime: Duration = .seconds(3_600), maxKnownSources: Int = 65_536) {
        self.knownLifetime = knownLifetime.nanoseconds
        self.maxKnownSources = max(1, maxKnownSources)
    }

    /// Counts one more handshake from `source` unless it already has `limit`, and tells whether
    /// the source is known.
    func admit(_ source: SourceKey, limit: Int, now: Int64 = monotonicNanoseconds()) -> Admission {
        self.state.withLock { state in
            let count = state.counts[source, default: 0]
            guard count < limit else { return .refused }
            state.counts[source] = count + 1
            guard let seen = state.known[source] else { return .admitted(known: false) }
            return .admitted(known: now &- seen < self.knownLifetime)
        }
    }

    /// Ends one handshake from `source`.
    func release(_ source: SourceKey) {
        self.state.withLock { state in
            guard let count = state.counts[source] else { return }
            state.counts[source] = count > 1 ? count - 1 : nil
        }
    }

    /// `source` completed a mutual-TLS handshake: it is known from now on, for ``knownLifetime``.
    func authenticated(_ source: SourceKey, now: Int64 = monotonicNanoseconds()) {
        self.state.withLock { state in
            if state.known.updateValue(now, forKey: source) == nil, state.known.count > self.maxKnownSources {
                self.prune(&state.known, now: now)
            }
        }
    }

    /// Drops expired sources, then, if still over the limit, the least recently seen half.
    private func prune(_ known: inout [SourceKey: Int64], now: Int64) {
        known = known.filter { now &- $0.value < self.knownLifetime }
        guard known.count > self.maxKnownSources else { return }
        let keep = known.sorted { $0.value > $1.value }.prefix(self.maxKnownSources / 2)
        known = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
    }

    /// Whether `source` is known now.
    func isKnown(_ source: SourceKey, now: Int64 = monotonicNanoseconds()) -> Bool {
        self.state.withLock { state in state.known[source].map { now &- $0 < self.knownLifetime } ?? false }
    }

    /// The handshakes in progress of each of `sources`, in one lock.
    func counts(of sources: [SourceKey?]) -> [Int] {
        self.state.withLock { state in sources.map { $0.map { state.counts[$0, default: 0] } ?? 0 } }
    }

    /// The number of sources with a handshake in progress.
    var sourceCount: Int { self.state.withLock { $0.counts.count } }

    /// The number of known sources (expired ones included until they are pruned).
    var knownCount: Int { self.state.withLock { $0.known.count } }
}

/// One loop's connections in their handshake: those that have sent nothing yet and those that
/// have, each oldest first. When the loop's handshake share is full, the oldest silent connection
/// is evicted first: a client that sent its ClientHello is pushed out only by a budget full of
/// clients that sent bytes too. Before age, the source counts: of the oldest ones, a connection
/// whose source holds the most handshakes goes first, so that a flood from a few addresses pushes
/// out its own connections before a vCenter's. Loop thread only.
struct HandshakeQueues {
    /// Connections that have sent no byte yet.
    private(set) var silent = HandshakeQueue(tag: 1)
    /// Connections that have sent bytes.
    private(set) var talking = HandshakeQueue(tag: 2)

    /// Connections in their handshake.
    var count: Int { self.silent.count + self.talking.count }

    /// How many of the oldest talking connections are weighed against each other for eviction.
    static let fairnessWindow = 16

    /// The connection to evict for a newer one: the oldest silent one, else the oldest talking one.
    var evictionCandidate: ConnectionCore? { self.silent.oldest ?? self.talking.oldest }

    /// The connection to evict for a newer one: of the oldest ``fairnessWindow`` silent and the
    /// oldest ``fairnessWindow`` talking ones, one from an unknown source before one from a known
    /// source (see ``SourceTable``), then the one whose source has the most handshakes in
    /// `sources`; on a tie a silent one before a talking one, and the oldest. A client is silent
    /// for its first moments too (until its ClientHello arrives), so weighing by source keeps a
    /// flood from evicting a client that has only just connected.
    func evictionCandidate(weighing sources: SourceTable) -> ConnectionCore? {
        var window: [ConnectionCore] = []
        window.reserveCapacity(2 * Self.fairnessWindow)
        for oldest in [self.silent.oldest, self.talking.oldest] {
            var next = oldest
            var taken = 0
            while let core = next, taken < Self.fairnessWindow {
                window.append(core)
                taken += 1
                next = core.handshakeNewer
            }
        }
        guard window.count > 1 else { return window.first }
        let counts = sources.counts(of: window.map(\.source))
        // A connection from an unknown source goes before one from a known source.
        func weight(_ index: Int) -> (Int, Int) { (window[index].fromKnownSource ? 0 : 1, counts[index]) }
        var chosen = 0
        for index in 1..<window.count where weight(index) > weight(chosen) { chosen = index }
        return window[chosen]
    }

    /// Adds a new connection (silent).
    mutating func append(_ core: ConnectionCore) { self.silent.append(core) }

    /// Moves `core` from the silent to the talking connections (its first bytes arrived).
    mutating func promote(_ core: ConnectionCore) {
        guard core.handshakeQueueTag == self.silent.tag else { return }
        self.silent.remove(core)
        self.talking.append(core)
    }

    /// Removes `core`, wherever it is.
    mutating func remove(_ core: ConnectionCore) {
        self.silent.remove(core)
        self.talking.remove(core)
    }
}

/// Connections in their handshake, oldest first.
///
/// An intrusive doubly linked list through ``ConnectionCore``, so that adding, removing (when a
/// handshake ends) and taking the oldest are O(1). The list holds its cores strongly from the
/// oldest one; the links back are `unowned(unsafe)`, valid because a core leaves the list before
/// the list lets go of it. A core is in at most one list, named by its ``ConnectionCore/handshakeQueueTag``.
struct HandshakeQueue {
    let tag: UInt8
    private(set) var count = 0
    private(set) var oldest: ConnectionCore?
    private unowned(unsafe) var newest: ConnectionCore?

    init(tag: UInt8) {
        precondition(tag != 0, "0 means no queue")
        self.tag = tag
    }

    /// Appends `core` as the newest.
    mutating func append(_ core: ConnectionCore) {
        precondition(core.handshakeQueueTag == 0)
        core.handshakeQueueTag = self.tag
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
        guard core.handshakeQueueTag == self.tag else { return }
        core.handshakeQueueTag = 0
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
