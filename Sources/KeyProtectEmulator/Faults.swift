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

/// The injected faults, as `GET/PUT /admin/faults` carry them.
struct Faults: Codable, Sendable, Equatable {
    var latencyMs: Int = 0
    var jitterMs: Int = 0
    /// Key actions (wrap/unwrap/rewrap) per second, token bucket with a burst of the same size.
    var rateLimit: Int?
    var retryAfterSeconds: Int = 1
    /// Fraction 0...1 of /api/v2 calls answered 503.
    var errorRate: Double = 0
    var outage: Bool = false

    private enum CodingKeys: String, CodingKey {
        case latencyMs, jitterMs, rateLimit, retryAfterSeconds, errorRate, outage
    }

    init(
        latencyMs: Int = 0,
        jitterMs: Int = 0,
        rateLimit: Int? = nil,
        retryAfterSeconds: Int = 1,
        errorRate: Double = 0,
        outage: Bool = false
    ) {
        self.latencyMs = latencyMs
        self.jitterMs = jitterMs
        self.rateLimit = rateLimit
        self.retryAfterSeconds = retryAfterSeconds
        self.errorRate = errorRate
        self.outage = outage
    }

    init(from decoder: any Decoder) throws {
        self.init()
        self.apply(try FaultsPatch(from: decoder))
    }

    /// Replaces the fields present in `patch` (`"rateLimit": null` removes the limit).
    mutating func apply(_ patch: FaultsPatch) {
        if let value = patch.latencyMs { self.latencyMs = value }
        if let value = patch.jitterMs { self.jitterMs = value }
        if let value = patch.rateLimit { self.rateLimit = value }
        if let value = patch.retryAfterSeconds { self.retryAfterSeconds = value }
        if let value = patch.errorRate { self.errorRate = value }
        if let value = patch.outage { self.outage = value }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.latencyMs, forKey: .latencyMs)
        try container.encode(self.jitterMs, forKey: .jitterMs)
        try container.encode(self.rateLimit, forKey: .rateLimit)
        try container.encode(self.retryAfterSeconds, forKey: .retryAfterSeconds)
        try container.encode(self.errorRate, forKey: .errorRate)
        try container.encode(self.outage, forKey: .outage)
    }

    /// The first invalid field, if any.
    var invalidity: String? {
        if self.latencyMs < 0 || self.jitterMs < 0 { return "latencyMs and jitterMs must be >= 0" }
        if let rateLimit = self.rateLimit, rateLimit < 1 { return "rateLimit must be >= 1 or null" }
        if self.retryAfterSeconds < 0 { return "retryAfterSeconds must be >= 0" }
        if !(0...1).contains(self.errorRate) { return "errorRate must be within 0...1" }
        return nil
    }
}

/// A `PUT /admin/faults` body: the fields present, `rateLimit` `.some(nil)` for an explicit null.
struct FaultsPatch: Decodable, Sendable {
    var latencyMs: Int?
    var jitterMs: Int?
    var rateLimit: Int??
    var retryAfterSeconds: Int?
    var errorRate: Double?
    var outage: Bool?

    private enum CodingKeys: String, CodingKey {
        case latencyMs, jitterMs, rateLimit, retryAfterSeconds, errorRate, outage
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.latencyMs = try container.decodeIfPresent(Int.self, forKey: .latencyMs)
        self.jitterMs = try container.decodeIfPresent(Int.self, forKey: .jitterMs)
        if container.contains(.rateLimit) {
            self.rateLimit = .some(try container.decodeIfPresent(Int.self, forKey: .rateLimit))
        }
        self.retryAfterSeconds = try container.decodeIfPresent(Int.self, forKey: .retryAfterSeconds)
        self.errorRate = try container.decodeIfPresent(Double.self, forKey: .errorRate)
        self.outage = try container.decodeIfPresent(Bool.self, forKey: .outage)
    }
}

/// A token bucket: `rate` tokens per second, at most `rate` in the bucket.
struct TokenBucket: Sendable {
    var rate: Double
    var tokens: Double
    var last: ContinuousClock.Instant

    init(rate: Int, now: ContinuousClock.Instant) {
        self.rate = Double(rate)
        self.tokens = Double(rate)
        self.last = now
    }

    /// Takes one token when there is one.
    mutating func take(now: ContinuousClock.Instant) -> Bool {
        let elapsed = now - self.last
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        self.tokens = min(self.rate, self.tokens + seconds * self.rate)
        self.last = now
        guard self.tokens >= 1 else { return false }
        self.tokens -= 1
        return true
    }
}

/// The counters of `GET /admin/stats`.
struct Stats: Encodable, Sendable {
    var calls: [String: Int] = [:]
    var status429 = 0
    var status5xx = 0
    var inFlight = 0
    var inFlightMax = 0
}
