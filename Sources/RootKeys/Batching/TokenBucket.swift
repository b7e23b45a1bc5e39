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

/// How fast a root-key service may be asked to unwrap: a token bucket of `burst` tokens that
/// refills at `unwrapsPerSecond`. Each unwrap sent to the service takes one token.
public struct RateLimit: Hashable, Sendable {
    /// The sustained rate.
    public var unwrapsPerSecond: Double
    /// How many unwraps may go at once after a quiet period (the bucket's size); at least 1.
    public var burst: Int

    public init(unwrapsPerSecond: Double, burst: Int) {
        precondition(unwrapsPerSecond > 0, "a rate limit needs a positive rate")
        self.unwrapsPerSecond = unwrapsPerSecond
        self.burst = max(1, burst)
    }
}

/// A token bucket over a ``MonotonicClock``'s time: a pure value, the time passed in.
struct TokenBucket {
    private let rate: Double
    private let capacity: Double
    private var tokens: Double
    private var updatedAt: Duration

    /// A full bucket at `now`.
    init(_ limit: RateLimit, now: Duration) {
        self.rate = limit.unwrapsPerSecond
        self.capacity = Double(limit.burst)
        self.tokens = self.capacity
        self.updatedAt = now
    }

    /// Takes a token when one is there.
    mutating func take(now: Duration) -> Bool {
        self.refill(now: now)
        // Tolerate the rounding of `nextToken(now:)`'s deadline.
        guard self.tokens >= 1 - 1e-9 else { return false }
        self.tokens = max(0, self.tokens - 1)
        return true
    }

    /// When the next token will be there (rounded up to the nanosecond).
    func nextToken(now: Duration) -> Duration {
        let elapsed = max(0, Self.seconds(now - self.updatedAt))
        let tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        guard tokens < 1 else { return now }
        let nanoseconds = ((1 - tokens) / self.rate * 1e9).rounded(.up)
        return now + .nanoseconds(Int64(nanoseconds))
    }

    private mutating func refill(now: Duration) {
        guard now > self.updatedAt else { return }
        self.tokens = min(self.capacity, self.tokens + Self.seconds(now - self.updatedAt) * self.rate)
        self.updatedAt = now
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
