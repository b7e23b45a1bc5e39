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

import Dispatch

/// A serial dispatch queue for blocking file I/O, awaited through a continuation.
///
/// `open`, `write`, `fsync` and `rename` block their thread; running them on the cooperative pool
/// would stall every task scheduled behind them (house rule 7). This queue owns its own thread, and
/// being serial it also orders the Local provider's writes: each write sees the previous one's
/// result. Work is not cancellable once queued: each job is one small file write.
final class SerialIOQueue: Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        self.queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    /// Runs `body` on the queue after every job queued before it, and returns its result.
    func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            self.queue.async {
                continuation.resume(with: Swift.Result { try body() })
            }
        }
    }
}
