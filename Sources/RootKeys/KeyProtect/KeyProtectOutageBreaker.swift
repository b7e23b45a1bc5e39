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

/// Stops Keystorm from hammering a Key Protect that is down, and its clients from waiting for it.
///
/// Without it every uncached Get during an outage runs the whole retry policy on its own: five
/// requests and a few seconds per Get, multiplied by every host of a boot storm, against a service
/// that is trying to come back. After ``threshold`` requests in a row get no answer (a 5xx, or
/// none: refused, reset, timed out), whichever calls sent them, the breaker opens: calls fail at
/// once with ``RootKeyError/unavailable`` for a cool-down, and calls already retrying stop at their
/// next retry. When the cool-down ends one call goes through as a probe (a single attempt): an answer
/// closes the breaker, a failure opens it again for twice as long (up to ``maxCooldown``).
///
/// Any HTTP answer that is not a 5xx, a 429 or a 4xx included, counts as Key Protect answering. A
/// synchronous state machine in a `Mutex` (house rule 6); the transport asks it before each call
/// and each retry, and reports how calls ended.
final class KeyProtectOutageBreaker: Sendable {
    /// Requests in a row that must get no answer before the breaker opens.
    let threshold: Int
    /// The first cool-down.
    let initialCooldown: Duration
    /// The longest cool-down.
    let maxCooldown: Duration

    private struct State {
        var failuresInARow = 0
        /// Set while open: when the next probe may go.
        var openUntil: ContinuousClock.Instant?
        var cooldown: Duration
        var probing = false
    }

    /// What a call may do.
    enum Admission: Equatable {
        /// Go, with the retry policy.
        case call
        /// Go as the one probe of an open breaker: a single attempt.
        case probe
        /// Fail now: Key Protect is down; `retryIn` until the next probe may go.
        case refuse(failuresInARow: Int, retryIn: Duration)
    }

    private let state: Mutex<State>

    init(threshold: Int = 10, initialCooldown: Duration = .seconds(1), maxCooldown: Duration = .seconds(10)) {
        self.threshold = max(1, threshold)
        self.initialCooldown = max(.milliseconds(1), initialCooldown)
        self.maxCooldown = max(self.initialCooldown, maxCooldown)
        self.state = Mutex(State(cooldown: self.initialCooldown))
    }

    /// Whether a new call may go now.
    func admit(now: ContinuousClock.Instant = .now) -> Admission {
        self.state.withLock { state in
            guard let openUntil = state.openUntil else { return .call }
            if now < openUntil || state.probing {
                return .refuse(failuresInARow: state.failuresInARow, retryIn: max(.zero, openUntil - now))
            }
            state.probing = true
            return .probe
        }
    }

    /// Whether a call that is retrying should stop: the breaker opened meanwhile.
    var isOpen: Bool { self.state.withLock { $0.openUntil != nil } }

    /// Key Protect answered (anything but a 5xx): the breaker closes.
    /// - Returns: `true` when it was open.
    @discardableResult
    func answered() -> Bool {
        self.state.withLock { state in
            let wasOpen = state.openUntil != nil
            if wasOpen || state.failuresInARow > 0 { state = State(cooldown: self.initialCooldown) }
            return wasOpen
        }
    }

    /// A request got no answer. A probe's failure, or the `threshold`th in a row, opens the
    /// breaker.
    /// - Returns: the cool-down when this request opened the breaker (not when it stayed open).
    @discardableResult
    func failed(probe: Bool, now: ContinuousClock.Instant = .now) -> Duration? {
        self.state.withLock { state in
            state.failuresInARow += 1
            if probe {
                state.probing = false
                state.cooldown = min(state.cooldown * 2, self.maxCooldown)
                state.openUntil = now + state.cooldown
                return nil
            }
            guard state.openUntil == nil, state.failuresInARow >= self.threshold else { return nil }
            state.openUntil = now + state.cooldown
            return state.cooldown
        }
    }

    /// A probe ended without an answer either way (cancelled, or a local error): the next call
    /// may probe.
    func abandonProbe() {
        self.state.withLock { $0.probing = false }
    }
}
