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

/// The end report of one run, written as JSON (``LoadReport`` is the JSON schema), Markdown and SVG.
///
/// Latencies are in milliseconds. `throughput` counts successful operations per second of the
/// measured phase (the setup phase excluded).
struct LoadReport: Codable, Hashable, Sendable {
    struct Configuration: Codable, Hashable, Sendable {
        var hosts: Int?
        var keysPerHost: Int?
        var keys: Int?
        var popularity: String?
        var connectionPerOperation: Bool
        var resumption: Bool
        var concurrency: Int
        var durationLimit: Double?
        var countLimit: Int?
        var kmipVersion: String
    }

    struct Setup: Codable, Hashable, Sendable {
        /// Distinct keys the measured phase uses.
        var keys: Int
        /// Keys created (Create + Activate) by this run.
        var created: Int
        /// Keys taken from the --uids-file.
        var reused: Int
        var seconds: Double
        /// Creates per second of the setup phase (0 when nothing was created).
        var createRate: Double
    }

    /// HdrHistogram percentiles of one latency, in milliseconds.
    struct LatencySummary: Codable, Hashable, Sendable {
        var count: UInt64
        var min: Double
        var mean: Double
        var p50: Double
        var p90: Double
        var p99: Double
        var p999: Double
        var max: Double

        init(_ histogram: Histogram<UInt64>) {
            func ms(_ micros: UInt64) -> Double { Double(micros) / 1000 }
            self.count = histogram.totalCount
            let empty = histogram.totalCount == 0
            self.min = empty ? 0 : ms(histogram.min)
            self.mean = empty ? 0 : histogram.mean / 1000
            self.p50 = empty ? 0 : ms(histogram.valueAtPercentile(50))
            self.p90 = empty ? 0 : ms(histogram.valueAtPercentile(90))
            self.p99 = empty ? 0 : ms(histogram.valueAtPercentile(99))
            self.p999 = empty ? 0 : ms(histogram.valueAtPercentile(99.9))
            self.max = empty ? 0 : ms(histogram.max)
        }
    }

    /// Operations whose total latency fell in `[lowerMs, upperMs)` (powers of two in µs).
    struct HistogramBucket: Codable, Hashable, Sendable {
        var lowerMs: Double
        var upperMs: Double
        var count: UInt64
    }

    /// One interval of the run: operations that ended in `[start, start + width)` seconds.
    struct TimelinePoint: Codable, Hashable, Sendable {
        var start: Double
        var width: Double
        var operations: Int
        var errors: Int
        var p50: Double
        var p99: Double
        var max: Double
    }

    var tool = "keystorm-load"
    var scenario: String
    /// The operation the throughput counts ("Get", "Create", or "mixed").
    var operation: String
    var startedAt: String
    var targets: [String]
    var configuration: Configuration
    var setup: Setup?
    var operations: Int
    var succeeded: Int
    var failed: Int
    var connections: Int
    var failovers: Int
    var seconds: Double
    var throughput: Double
    var errors: [String: Int]
    var errorExamples: [String: String]
    /// `connect`, `handshake`, `operation` (request to response) and `total` (what the host waited).
    var latency: [String: LatencySummary]
    /// Request-to-response latency per KMIP operation.
    var byOperation: [String: LatencySummary]
    var histogram: [HistogramBucket]
    var timeline: [TimelinePoint]
    /// Operations left out of the timeline (it keeps at most ``LoadRecorder/maxSamples``).
    var timelineDropped: Int
}

extension LoadReport {
    /// The report of a measured phase from what the recorder holds.
    init(
        scenario: String,
        operation: String,
        startedAt: String,
        targets: [String],
        configuration: Configuration,
        setup: Setup?,
        recorded state: LoadRecorder.State,
        seconds: Double
    ) {
        self.scenario = scenario
        self.operation = operation
        self.startedAt = startedAt
        self.targets = targets
        self.configuration = configuration
        self.setup = setup
        self.operations = state.succeeded + state.failed
        self.succeeded = state.succeeded
        self.failed = state.failed
        self.connections = state.connections
        self.failovers = state.failovers
        self.seconds = seconds
        self.throughput = seconds > 0 ? Double(state.succeeded) / seconds : 0
        self.errors = state.errors
        self.errorExamples = state.errorExamples
        self.latency = [
            "connect": LatencySummary(state.connect),
            "handshake": LatencySummary(state.handshake),
            "operation": LatencySummary(state.operation),
            "total": LatencySummary(state.total),
        ]
        self.byOperation = state.byOperation.mapValues { LatencySummary($0) }
        self.histogram = Self.buckets(state.total)
        self.timeline = Self.timeline(state.samples, seconds: seconds)
        self.timelineDropped = state.samplesDropped
    }

    /// The recorded values of `histogram` binned by powers of two of microseconds.
    static func buckets(_ histogram: Histogram<UInt64>) -> [HistogramBucket] {
        guard histogram.totalCount > 0 else { return [] }
        var counts: [Int: UInt64] = [:]
        for value in histogram.recordedValues() {
            let micros = max(1, value.value)
            let exponent = UInt64.bitWidth - 1 - micros.leadingZeroBitCount
            counts[exponent, default: 0] += value.count
        }
        let low = counts.keys.min() ?? 0
        let high = counts.keys.max() ?? 0
        return (low...high).map { exponent in
            HistogramBucket(
                lowerMs: Double(UInt64(1) << exponent) / 1000,
                upperMs: Double(UInt64(1) << (exponent + 1)) / 1000,
                count: counts[exponent] ?? 0
            )
        }
    }

    /// The interval widths the timeline may use, in seconds.
    static let timelineWidths: [Double] = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 300, 600]

    /// Samples grouped into at most about 120 intervals, with exact percentiles per interval.
    static func timeline(_ samples: [OperationSample], seconds: Double) -> [TimelinePoint] {
        guard !samples.isEmpty else { return [] }
        let lastMillis = Double(samples.map(\.endMillis).max() ?? 0)
        let span = max(seconds, lastMillis / 1000, 0.001)
        let width = Self.timelineWidths.first { span / $0 <= 120 } ?? Self.timelineWidths.last!
        let count = Int((span / width).rounded(.up)) + 1
        var latencies = [[UInt32]](repeating: [], count: count)
        var errors = [Int](repeating: 0, count: count)
        for sample in samples {
            let index = min(count - 1, Int(Double(sample.endMillis) / 1000 / width))
            latencies[index].append(sample.micros)
            if sample.failed { errors[index] += 1 }
        }
        var points: [TimelinePoint] = []
        for index in 0..<count where !latencies[index].isEmpty {
            let sorted = latencies[index].sorted()
            points.append(
                TimelinePoint(
                    start: Double(index) * width,
                    width: width,
                    operations: sorted.count,
                    errors: errors[index],
                    p50: Double(Self.percentile(sorted, 50)) / 1000,
                    p99: Double(Self.percentile(sorted, 99)) / 1000,
                    max: Double(sorted.last ?? 0) / 1000
                )
            )
        }
        return points
    }

    /// The nearest-rank percentile of sorted values: the smallest value with at least `p`% of the
    /// values at or below it.
    static func percentile(_ sorted: [UInt32], _ p: Double) -> UInt32 {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }
}
