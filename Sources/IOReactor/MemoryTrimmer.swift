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

/// Gives memory freed by closed connections back to the kernel.
///
/// glibc's allocator keeps freed memory in its arenas (one per loop thread), so after a flood of
/// connections the process would keep its peak size. After ``threshold`` connections closed since
/// the most recent peak, a loop runs `malloc_trim(0)`, at most once per ``interval``: a trim that
/// is due sooner is scheduled for when the interval ends, so the tail of a burst of closes is
/// trimmed too. A trim takes milliseconds for hundreds of MiB, which the rate bounds.
final class MemoryTrimmer: Sendable {
    private struct State {
        var peak = 0
        var lastTrim: Int64 = 0
        var scheduled = false
        var trims = 0
    }

    /// Connections closed since the peak that make a trim due; 0 turns trimming off.
    let threshold: Int
    /// The least time between two trims.
    let interval: Int64 = 1_000_000_000
    private let state = Mutex(State())

    init(threshold: Int) {
        self.threshold = max(0, threshold)
    }

    /// Trims done so far.
    var trims: Int { self.state.withLock { $0.trims } }

    /// Notes that a connection closed, leaving `open` connections; trims now, or schedules a trim
    /// on `loop`, when enough closed. Loop thread of `loop` only.
    /// - Parameter current: Reads the open connections when a scheduled trim runs.
    func connectionClosed(open: Int, loop: ReactorLoop, current: @escaping () -> Int) {
        guard self.threshold > 0 else { return }
        let now = monotonicNanoseconds()
        enum Decision {
            case none, now
            case later(Int64)
        }
        let decision = self.state.withLock { state -> Decision in
            state.peak = max(state.peak, open + 1)
            guard !state.scheduled, state.peak - open >= self.threshold else { return .none }
            let wait = state.lastTrim + self.interval - now
            if wait <= 0 { return .now }
            state.scheduled = true
            return .later(wait)
        }
        switch decision {
        case .none:
            return
        case .now:
            self.trim(open: open)
        case .later(let wait):
            _ = loop.schedule(afterNanoseconds: wait) { self.trim(open: current()) }
        }
    }

    private func trim(open: Int) {
        _ = CKeystorm_malloc_trim(0)
        let now = monotonicNanoseconds()
        self.state.withLock { state in
            state.peak = open
            state.lastTrim = now
            state.scheduled = false
            state.trims += 1
        }
    }
}
