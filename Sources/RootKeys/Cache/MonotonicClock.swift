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

/// The time source of ``KeyCache`` (TTL and idle timeout) and ``UnwrapBatcher`` (deadlines and the
/// token bucket): a monotonic instant as a `Duration` since an arbitrary origin, and a sleep.
///
/// Not `any Clock<Duration>`: through that existential `now` is an opaque `InstantProtocol` that
/// cannot be stored in a `Mutex`-protected struct or compared without casts. A test passes a clock
/// it moves by hand (`ManualClock` in `KeystormTestSupport`), so nothing sleeps for real.
public protocol MonotonicClock: Sendable {
    /// The time since this clock's origin; never goes backwards.
    var now: Duration { get }

    /// Suspends until `now >= deadline`.
    ///
    /// - Throws: `CancellationError` when the task is cancelled first.
    func sleep(until deadline: Duration) async throws
}

/// ``MonotonicClock`` on `ContinuousClock`: the origin is the moment the value was created.
public struct ContinuousMonotonicClock: MonotonicClock {
    private let origin: ContinuousClock.Instant

    public init() {
        self.origin = ContinuousClock.now
    }

    public var now: Duration { ContinuousClock.now - self.origin }

    public func sleep(until deadline: Duration) async throws {
        try await ContinuousClock().sleep(until: self.origin.advanced(by: deadline), tolerance: nil)
    }
}

extension MonotonicClock where Self == ContinuousMonotonicClock {
    /// The system's monotonic clock.
    public static var continuous: ContinuousMonotonicClock { ContinuousMonotonicClock() }
}
