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

public import RootKeys
import Synchronization

/// A ``MonotonicClock`` that tests move by hand: `sleep(until:)` returns when ``advance(by:)``
/// passes the deadline (or throws `CancellationError` when the sleeping task is cancelled), so
/// timeouts, TTLs and rate limits are tested without waiting.
public final class ManualClock: MonotonicClock {
    private enum Sleeper {
        case reserved(Duration)
        case waiting(Duration, CheckedContinuation<Void, any Error>)
        case cancelled
    }

    private struct State {
        var now: Duration
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    public init(now: Duration = .zero) {
        self.state = Mutex(State(now: now))
    }

    public var now: Duration { self.state.withLock { $0.now } }

    /// Tasks sleeping on this clock now.
    public var sleepers: Int { self.state.withLock { $0.sleepers.count } }

    /// Moves the time forward and wakes every sleeper whose deadline has come.
    public func advance(by duration: Duration) {
        let due = self.state.withLock { state in
            state.now += duration
            var due: [CheckedContinuation<Void, any Error>] = []
            for (id, sleeper) in state.sleepers {
                if case .waiting(let deadline, let continuation) = sleeper, deadline <= state.now {
                    state.sleepers[id] = nil
                    due.append(continuation)
                }
            }
            return due
        }
        for continuation in due { continuation.resume() }
    }

    public func sleep(until deadline: Duration) async throws {
        let id: UInt64? = self.state.withLock { state in
            guard deadline > state.now else { return nil }
            state.nextID += 1
            state.sleepers[state.nextID] = .reserved(deadline)
            return state.nextID
        }
        guard let id else { return try Task.checkCancellation() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let result: Result<Void, any Error>? = self.state.withLock { state in
                    switch state.sleepers[id] {
                    case .reserved(let deadline) where deadline <= state.now:
                        state.sleepers[id] = nil
                        return .success(())
                    case .reserved(let deadline):
                        state.sleepers[id] = .waiting(deadline, continuation)
                        return nil
                    default:
                        state.sleepers[id] = nil
                        return .failure(CancellationError())
                    }
                }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            let continuation: CheckedContinuation<Void, any Error>? = self.state.withLock { state in
                switch state.sleepers[id] {
                case .reserved:
                    state.sleepers[id] = .cancelled
                    return nil
                case .waiting(_, let continuation):
                    state.sleepers[id] = nil
                    return continuation
                case .cancelled, nil:
                    return nil
                }
            }
            continuation?.resume(throwing: CancellationError())
        }
    }
}
