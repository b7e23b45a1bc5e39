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

import Synchronization

/// A snapshot of a ``ReactorServer``'s counters, read without a lock. The counters only grow
/// (except ``activeConnections``); an exporter turns differences between snapshots into metrics.
public struct ReactorStatistics: Hashable, Sendable {
    /// Connections accepted (including those that then failed their handshake).
    public var accepted: Int
    /// Connections closed at accept because ``ReactorConfiguration/maxConnections`` was reached.
    public var refused: Int
    /// Connections open now (handshaking or being served).
    public var activeConnections: Int
    /// Connections closed at accept because their source already had
    /// ``ReactorConfiguration/maxHandshakesPerSource`` handshakes in progress.
    public var refusedPerSource: Int
    /// Handshaking connections evicted to make room for a newer connection (the handshake budget
    /// or the connection limit was full).
    public var evictedHandshakes: Int
    /// Connections accepted at low priority: over TLS, from a source that had not completed a
    /// handshake lately (see ``ReactorServer``).
    public var lowPriorityConnections: Int = 0
    /// Times the server gave freed heap memory back to the kernel after connections closed.
    public var memoryTrims: Int = 0
    /// Handshakes that completed with a full TLS handshake (or without TLS).
    public var fullHandshakes: Int
    /// Handshakes that resumed a TLS session (ticket or cache).
    public var resumedHandshakes: Int
    /// Handshakes refused by TLS: no or untrusted client certificate, protocol or cipher mismatch.
    public var handshakeFailuresRefused: Int
    /// Handshakes that did not finish within ``ReactorConfiguration/handshakeTimeout``.
    public var handshakeFailuresTimeout: Int
    /// Handshakes the peer ended (close or reset) before they finished.
    public var handshakeFailuresClosed: Int
    /// Handshakes that failed otherwise (shutdown, a system call).
    public var handshakeFailuresOther: Int
}

/// The atomics behind ``ReactorStatistics``.
final class ReactorCounters: Sendable {
    let accepted = Atomic<Int>(0)
    let refusedPerSource = Atomic<Int>(0)
    let evicted = Atomic<Int>(0)
    let lowPriorityConnections = Atomic<Int>(0)
    let fullHandshakes = Atomic<Int>(0)
    let resumedHandshakes = Atomic<Int>(0)
    let refusedHandshakes = Atomic<Int>(0)
    let timedOutHandshakes = Atomic<Int>(0)
    let closedHandshakes = Atomic<Int>(0)
    let otherHandshakeFailures = Atomic<Int>(0)

    /// Counts a finished handshake.
    func handshakeSucceeded(resumed: Bool) {
        if resumed {
            self.resumedHandshakes.add(1, ordering: .relaxed)
        } else {
            self.fullHandshakes.add(1, ordering: .relaxed)
        }
    }

    /// Counts a failed handshake by the kind of its error.
    func handshakeFailed(_ error: any Error) {
        switch (error as? IOReactorError)?.code {
        case .handshakeFailed?, .tls?: self.refusedHandshakes.add(1, ordering: .relaxed)
        case .timeout?: self.timedOutHandshakes.add(1, ordering: .relaxed)
        case .closed?, .connectionReset?: self.closedHandshakes.add(1, ordering: .relaxed)
        default: self.otherHandshakeFailures.add(1, ordering: .relaxed)
        }
    }

    func snapshot(refused: Int, active: Int) -> ReactorStatistics {
        ReactorStatistics(
            accepted: self.accepted.load(ordering: .relaxed),
            refused: refused,
            activeConnections: active,
            refusedPerSource: self.refusedPerSource.load(ordering: .relaxed),
            evictedHandshakes: self.evicted.load(ordering: .relaxed),
            lowPriorityConnections: self.lowPriorityConnections.load(ordering: .relaxed),
            fullHandshakes: self.fullHandshakes.load(ordering: .relaxed),
            resumedHandshakes: self.resumedHandshakes.load(ordering: .relaxed),
            handshakeFailuresRefused: self.refusedHandshakes.load(ordering: .relaxed),
            handshakeFailuresTimeout: self.timedOutHandshakes.load(ordering: .relaxed),
            handshakeFailuresClosed: self.closedHandshakes.load(ordering: .relaxed),
            handshakeFailuresOther: self.otherHandshakeFailures.load(ordering: .relaxed)
        )
    }
}
