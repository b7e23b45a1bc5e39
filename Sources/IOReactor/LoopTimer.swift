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

/// A one-shot timer on a loop: handshake and idle deadlines, the shutdown deadline.
///
/// Created and cancelled on the loop thread only. Cancellation is lazy: the heap drops a cancelled
/// timer when it reaches the top.
final class LoopTimer {
    let deadline: Int64
    let sequence: UInt64
    private(set) var isCancelled = false
    var action: (() -> Void)?

    init(deadline: Int64, sequence: UInt64, action: @escaping () -> Void) {
        self.deadline = deadline
        self.sequence = sequence
        self.action = action
    }

    /// Stops the timer from firing. Idempotent.
    func cancel() {
        self.isCancelled = true
        self.action = nil
    }
}

/// A binary min-heap of ``LoopTimer``s ordered by deadline, then by creation order.
struct TimerHeap {
    private var items: [LoopTimer] = []

    var isEmpty: Bool { self.items.isEmpty }

    /// The earliest deadline of a live timer, dropping cancelled ones on the way.
    mutating func nextDeadline() -> Int64? {
        while let first = self.items.first, first.isCancelled { _ = self.popFirst() }
        return self.items.first?.deadline
    }

    mutating func insert(_ timer: LoopTimer) {
        self.items.append(timer)
        var child = self.items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.less(self.items[child], self.items[parent]) else { break }
            self.items.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns every live timer whose deadline is at or before `now`.
    mutating func popExpired(now: Int64) -> [LoopTimer] {
        var expired: [LoopTimer] = []
        while let first = self.items.first, first.isCancelled || first.deadline <= now {
            let timer = self.popFirst()
            if !timer.isCancelled { expired.append(timer) }
        }
        return expired
    }

    private mutating func popFirst() -> LoopTimer {
        let first = self.items[0]
        let last = self.items.removeLast()
        if !self.items.isEmpty {
            self.items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < self.items.count, Self.less(self.items[left], self.items[smallest]) { smallest = left }
                if right < self.items.count, Self.less(self.items[right], self.items[smallest]) { smallest = right }
                if smallest == parent { break }
                self.items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }

    private static func less(_ a: LoopTimer, _ b: LoopTimer) -> Bool {
        a.deadline != b.deadline ? a.deadline < b.deadline : a.sequence < b.sequence
    }
}
