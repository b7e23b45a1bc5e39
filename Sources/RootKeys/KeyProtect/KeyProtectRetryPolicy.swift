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

/// When the Key Protect provider tries a call again, and how long it waits first.
///
/// Retried: 429 and every 5xx except 501, and connection failures; like IBM's own Go client
/// (`kpCheckRetry`: go-retryablehttp, `RetryMax = 4`). The wait before retry `n` is the
/// server's `Retry-After` plus up to half of it again (so a throttled burst does not come back
/// at once), or else "equal jitter" exponential back-off: a random point in the upper half of
/// `min(maxDelay, baseDelay · 2ⁿ⁻¹)`. No retry starts whose wait would end after `budget` from
/// the first attempt, so a call gives up within the budget (plus one request timeout).
public struct KeyProtectRetryPolicy: Hashable, Sendable {
    /// Retries after the first attempt; default 4.
    public var maxRetries: Int
    /// The longest a call spends waiting between attempts, from its first attempt; default 30 s.
    public var budget: Duration
    /// The first back-off; default 250 ms.
    public var baseDelay: Duration
    /// The longest single back-off; default 8 s.
    public var maxDelay: Duration

    public init(
        maxRetries: Int = 4,
        budget: Duration = .seconds(30),
        baseDelay: Duration = .milliseconds(250),
        maxDelay: Duration = .seconds(8)
    ) {
        self.maxRetries = max(0, maxRetries)
        self.budget = max(.zero, budget)
        self.baseDelay = max(.zero, baseDelay)
        self.maxDelay = max(self.baseDelay, maxDelay)
    }

    /// Whether an HTTP status is worth another attempt.
    public static func isRetryable(status: Int) -> Bool {
        status == 429 || (status >= 500 && status <= 599 && status != 501)
    }

    /// The wait before retry number `retry` (1 for the first retry), or `nil` when the call must
    /// give up: `maxRetries` reached, or the wait would end after the budget.
    ///
    /// - Parameters:
    ///   - retry: 1-based.
    ///   - retryAfter: The server's `Retry-After`, if it sent one.
    ///   - elapsed: Time since the first attempt started.
    ///   - random: The jitter source; tests pass a seeded one.
    public func delay(
        beforeRetry retry: Int,
        retryAfter: Duration?,
        elapsed: Duration,
        using random: inout some RandomNumberGenerator
    ) -> Duration? {
        guard retry >= 1, retry <= self.maxRetries else { return nil }
        let wait: Duration
        if let retryAfter, retryAfter > .zero {
            wait = retryAfter + Self.fraction(of: retryAfter / 2, using: &random)
        } else {
            var ceiling = self.baseDelay
            for _ in 1..<retry where ceiling < self.maxDelay { ceiling *= 2 }
            ceiling = min(ceiling, self.maxDelay)
            wait = ceiling / 2 + Self.fraction(of: ceiling / 2, using: &random)
        }
        guard elapsed + wait <= self.budget else { return nil }
        return wait
    }

    /// `Retry-After` in seconds (the HTTP-date form is not used by Key Protect and gives `nil`).
    public static func parseRetryAfter(_ value: String?) -> Duration? {
        guard let value, let seconds = Int(value.trimmingWhitespace()), seconds >= 0 else { return nil }
        return .seconds(min(seconds, 3600))
    }

    private static func fraction(of span: Duration, using random: inout some RandomNumberGenerator) -> Duration {
        let nanoseconds = span.components.seconds * 1_000_000_000 + span.components.attoseconds / 1_000_000_000
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanoseconds, using: &random))
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> Substring {
        var text = self[...]
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return text
    }
}
