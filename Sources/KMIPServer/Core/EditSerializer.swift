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

/// Lets one edit of an object run at a time in this process; the others wait their turn, first
/// come first served.
///
/// Concurrent edits of one object otherwise race on its revision: with group commit, every write
/// of a group but the first loses, so under a steady stream of edits a request can lose every
/// retry. Queued, they do not race (only a writer in another process, or an internal update such
/// as clearing Fresh, still can, which ``KMIPServerCore/edit(_:_:_:)`` retries). Waiting suspends
/// the task; it never blocks a thread. An object with no edit running has no entry.
final class EditSerializer: Sendable {
    private struct Key: Hashable {
        var tenantID: String
        var uniqueIdentifier: String
    }

    /// Present while an edit of the object runs: the edits waiting for it, in arrival order.
    private let waiting = Mutex<[Key: [CheckedContinuation<Void, Never>]]>([:])

    init() {}

    /// Runs `body` once no other edit of the object runs.
    ///
    /// - Parameter body: The edit; its argument says whether it had to wait for another (so what
    ///   it read before may be stale).
    func exclusively<R>(
        tenantID: String,
        uniqueIdentifier: String,
        _ body: (_ waited: Bool) async throws(KMIPError) -> R
    ) async throws(KMIPError) -> R {
        let key = Key(tenantID: tenantID, uniqueIdentifier: uniqueIdentifier)
        let waited = await self.acquire(key)
        do {
            let result = try await body(waited)
            self.release(key)
            return result
        } catch {
            self.release(key)
            throw error
        }
    }

    /// Takes the object's turn, waiting when an edit runs; returns whether it waited.
    private func acquire(_ key: Key) async -> Bool {
        let free = self.waiting.withLock { waiting in
            guard waiting[key] == nil else { return false }
            waiting[key] = []
            return true
        }
        if free { return false }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = self.waiting.withLock { waiting in
                // The running edit may have finished since the first look.
                guard waiting[key] != nil else {
                    waiting[key] = []
                    return true
                }
                waiting[key]?.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
        return true
    }

    /// Hands the object's turn to the next waiting edit, or frees it.
    private func release(_ key: Key) {
        let next: CheckedContinuation<Void, Never>? = self.waiting.withLock { waiting in
            guard var queue = waiting[key], !queue.isEmpty else {
                waiting[key] = nil
                return nil
            }
            let first = queue.removeFirst()
            waiting[key] = queue
            return first
        }
        next?.resume()
    }
}
