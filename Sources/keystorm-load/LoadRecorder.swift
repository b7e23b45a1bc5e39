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

import Histogram
import Synchronization

/// Latencies in microseconds, 1 µs to one hour, three significant digits.
typealias LatencyHistogram = Histogram<UInt64>

extension Histogram where Count == UInt64 {
    static func latency() -> Histogram<UInt64> {
        Histogram(
            lowestDiscernibleValue: 1,
            highestTrackableValue: 3_600_000_000,
            numberOfSignificantValueDigits: .three
        )
    }

    /// Records a duration in whole microseconds (at least 1), clamped to the trackable range.
    mutating func record(_ duration: Duration) {
        let micros = Swift.max(1, duration.microseconds)
        _ = self.record(UInt64(Swift.min(micros, Int64(self.highestTrackableValue))))
    }
}

extension Duration {
    /// The duration in whole microseconds.
    var microseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    var seconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// One completed operation for the timeline: when it ended (ms since the start of the measured
/// phase), how long it took as the host saw it (µs), and whether it failed.
struct OperationSample: Hashable, Sendable {
    var endMillis: UInt32
    var micros: UInt32
    var failed: Bool
}

/// Everything measured during one phase, behind a `Mutex`: histograms of connect, handshake,
/// operation and total latency (per operation name too), counts, errors by kind and the samples
/// for the timeline. Shared by the workers and read by the progress line.
final class LoadRecorder: Sendable {
    struct State: Sendable {
        var connect = LatencyHistogram.latency()
        var handshake = LatencyHistogram.latency()
        /// Request written to response read.
        var operation = LatencyHistogram.latency()
        /// What the host waited for one operation, failed ones included: with a connection per
        /// operation, connect + handshake + request; with a persistent connection, the request alone.
        var total = LatencyHistogram.latency()
        var byOperation: [String: LatencyHistogram] = [:]
        var succeeded = 0
        var failed = 0
        var connections = 0
        var failovers = 0
        var errors: [String: Int] = [:]
        var errorExamples: [String: String] = [:]
        var samples: [OperationSample] = []
        var samplesDropped = 0
    }

    /// At most this many samples are kept for the timeline (about 36 MB); later ones are counted.
    static let maxSamples = 3_000_000

    let start: ContinuousClock.Instant
    private let state = Mutex(State())

    init(start: ContinuousClock.Instant = .now) {
        self.start = start
    }

    func recordConnection(_ timings: ConnectionTimings) {
        self.state.withLock { state in
            state.connections += 1
            state.failovers += timings.failovers
            state.connect.record(timings.connect)
            state.handshake.record(timings.handshake)
        }
    }

    func recordSuccess(_ name: String, operation: Duration, total: Duration, end: ContinuousClock.Instant = .now) {
        let sample = self.sample(end: end, total: total, failed: false)
        self.state.withLock { state in
            state.succeeded += 1
            state.operation.record(operation)
            state.total.record(total)
            state.byOperation[name, default: .latency()].record(operation)
            Self.append(sample, to: &state)
        }
    }

    func recordFailure(_ failure: LoadFailure, total: Duration, end: ContinuousClock.Instant = .now) {
        let sample = self.sample(end: end, total: total, failed: true)
        self.state.withLock { state in
            state.failed += 1
            state.total.record(total)
            state.errors[failure.key, default: 0] += 1
            if state.errorExamples[failure.key] == nil { state.errorExamples[failure.key] = failure.detail }
            Self.append(sample, to: &state)
        }
    }

    private func sample(end: ContinuousClock.Instant, total: Duration, failed: Bool) -> OperationSample {
        let millis = max(0, (end - self.start).microseconds / 1000)
        return OperationSample(
            endMillis: UInt32(clamping: millis),
            micros: UInt32(clamping: max(1, total.microseconds)),
            failed: failed
        )
    }

    private static func append(_ sample: OperationSample, to state: inout State) {
        if state.samples.count < Self.maxSamples {
            state.samples.append(sample)
        } else {
            state.samplesDropped += 1
        }
    }

    /// Completed operations, failures and the p99 of the total latency so far (for the progress line).
    func progress() -> (done: Int, failed: Int, p99Micros: UInt64) {
        self.state.withLock { state in
            (
                state.succeeded + state.failed, state.failed,
                state.total.totalCount > 0 ? state.total.valueAtPercentile(99) : 0
            )
        }
    }

    /// A copy of everything recorded.
    func snapshot() -> State {
        self.state.withLock { $0 }
    }
}
