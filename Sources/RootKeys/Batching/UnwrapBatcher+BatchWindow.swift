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

extension UnwrapBatcher {
    /// Unwraps the state machine started, held for up to ``Configuration/batchWindow`` so that they
    /// go to a batch-native service together.
    struct BatchWindow: Sendable {
        var pending: [(request: UnwrapRequest, generation: UInt64?)] = []
        /// Whether a timer will flush `pending`.
        var timerArmed = false
    }

    /// Whether started unwraps are grouped: a window is set and the service takes batches.
    var batches: Bool {
        self.configuration.batchWindow > .zero && self.service.unwrapBatchLimit > 1
    }

    /// Holds a started unwrap for the window; a full batch goes at once.
    func enqueue(_ request: UnwrapRequest, generation: UInt64?) {
        let limit = self.service.unwrapBatchLimit
        let (full, armTimer) = self.window.withLock {
            window -> ([(request: UnwrapRequest, generation: UInt64?)]?, Bool) in
            window.pending.append((request, generation))
            if window.pending.count >= limit {
                defer { window.pending = [] }
                return (window.pending, false)
            }
            guard !window.timerArmed else { return (nil, false) }
            window.timerArmed = true
            return (nil, true)
        }
        if let full {
            Task { await self.flyBatch(full) }
        }
        if armTimer {
            let deadline = self.clock.now + self.configuration.batchWindow
            Task {
                try? await self.clock.sleep(until: deadline)
                let due = self.window.withLock { window in
                    window.timerArmed = false
                    defer { window.pending = [] }
                    return window.pending
                }
                if !due.isEmpty { await self.flyBatch(due) }
            }
        }
    }

    /// Sends held unwraps in calls of at most ``RootKeyService/unwrapBatchLimit`` and lands each.
    private func flyBatch(_ items: [(request: UnwrapRequest, generation: UInt64?)]) async {
        let limit = max(1, self.service.unwrapBatchLimit)
        var start = 0
        while start < items.count {
            let chunk = items[start..<min(items.count, start + limit)]
            start += limit
            let batch = chunk.map {
                RootKeyBatchItem(wrapped: $0.request.wrapped, rootKeyID: $0.request.rootKeyID, aad: $0.request.aad)
            }
            let results = await self.service.unwrap(batch: batch)
            for (offset, item) in chunk.enumerated() {
                let result =
                    offset < results.count
                    ? results[offset]
                    : .failure(
                        RootKeyError(
                            .unavailable,
                            reason: "the root-key service answered \(results.count) of \(batch.count) unwraps"
                        )
                    )
                self.land(item.request, result, generation: item.generation)
            }
        }
    }
}
