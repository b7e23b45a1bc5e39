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

/// A fixed set of PKCS#11 sessions, one per concurrent call.
///
/// A call takes a free session (or waits, first come first served, until one is returned), runs
/// its PKCS#11 calls on that session's thread, and gives it back. So at most `sessions.count` calls
/// reach the module at once, each on its own session and thread, and a boot storm's unwraps queue
/// here rather than on the cooperative pool. A waiting call is not cancellable; each job is a few
/// PKCS#11 calls.
final class PKCS11SessionPool: Sendable {
    private struct State {
        var free: [PKCS11Session]
        var waiters: [CheckedContinuation<PKCS11Session, Never>] = []
        var nextWaiter = 0
    }

    private let state: Mutex<State>
    /// The number of sessions.
    let count: Int

    init(sessions: [PKCS11Session]) {
        precondition(!sessions.isEmpty, "a session pool needs at least one session")
        self.state = Mutex(State(free: sessions))
        self.count = sessions.count
    }

    /// Runs `body` on a free session's thread and returns its result; ``PKCS11Error``s become
    /// ``RootKeyError``s.
    func withSession<Result: Sendable>(
        _ body: @escaping @Sendable (PKCS11Session) throws -> Result
    ) async throws -> Result {
        let session = await self.acquire()
        defer { self.release(session) }
        return try await session.run { session in try PKCS11.mappingErrors { try body(session) } }
    }

    private func acquire() async -> PKCS11Session {
        if let session = self.state.withLock({ $0.free.popLast() }) { return session }
        return await withCheckedContinuation { continuation in
            let session = self.state.withLock { state -> PKCS11Session? in
                // A session may have come back between the first look and now.
                if let session = state.free.popLast() { return session }
                state.waiters.append(continuation)
                return nil
            }
            if let session { continuation.resume(returning: session) }
        }
    }

    private func release(_ session: PKCS11Session) {
        let waiter = self.state.withLock { state -> CheckedContinuation<PKCS11Session, Never>? in
            guard state.nextWaiter < state.waiters.count else {
                state.free.append(session)
                return nil
            }
            let waiter = state.waiters[state.nextWaiter]
            state.nextWaiter += 1
            if state.nextWaiter == state.waiters.count {
                state.waiters.removeAll(keepingCapacity: true)
                state.nextWaiter = 0
            } else if state.nextWaiter >= 1024 {
                // Under constant contention the queue never empties: drop the served prefix now and then.
                state.waiters.removeFirst(state.nextWaiter)
                state.nextWaiter = 0
            }
            return waiter
        }
        waiter?.resume(returning: session)
    }
}
