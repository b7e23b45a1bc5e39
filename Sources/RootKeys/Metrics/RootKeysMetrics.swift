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

import Metrics

/// The metric names RootKeys reports through swift-metrics. The executable bootstraps the
/// Prometheus factory; this target depends on the swift-metrics API only.
///
/// | name | kind | dimensions |
/// |---|---|---|
/// | `keystorm_key_cache_hits_total` | counter | |
/// | `keystorm_key_cache_misses_total` | counter | |
/// | `keystorm_key_cache_evictions_total` | counter | `reason`: `capacity`, `expired`, `purged` |
/// | `keystorm_key_cache_entries` | gauge | |
/// | `keystorm_key_cache_bytes` | gauge | |
/// | `keystorm_unwrap_flight_callers` | histogram | callers one unwrap served (1 + single-flight joins) |
/// | `keystorm_unwrap_batch_size` | histogram | `provider`: ciphertexts per call to the root-key service |
/// | `keystorm_unwrap_coalesced_total` | counter | callers that joined an unwrap already in flight |
/// | `keystorm_unwrap_timeouts_total` | counter | callers whose deadline passed |
/// | `keystorm_unwrap_in_flight` | gauge | |
/// | `keystorm_unwrap_queue_depth` | gauge | |
/// | `keystorm_root_key_calls_total` | counter | `provider`, `operation`, `result` |
/// | `keystorm_root_key_call_duration_seconds` | histogram | `provider`, `operation` |
public enum RootKeysMetricNames {
    public static let cacheHits = "keystorm_key_cache_hits_total"
    public static let cacheMisses = "keystorm_key_cache_misses_total"
    public static let cacheEvictions = "keystorm_key_cache_evictions_total"
    public static let cacheEntries = "keystorm_key_cache_entries"
    public static let cacheBytes = "keystorm_key_cache_bytes"
    public static let unwrapFlightCallers = "keystorm_unwrap_flight_callers"
    public static let unwrapBatchSize = "keystorm_unwrap_batch_size"
    public static let unwrapCoalesced = "keystorm_unwrap_coalesced_total"
    public static let unwrapTimeouts = "keystorm_unwrap_timeouts_total"
    public static let unwrapInFlight = "keystorm_unwrap_in_flight"
    public static let unwrapQueueDepth = "keystorm_unwrap_queue_depth"
    public static let rootKeyCalls = "keystorm_root_key_calls_total"
    public static let rootKeyCallDuration = "keystorm_root_key_call_duration_seconds"

    /// A `RootKeyError` code (`rateLimited`) as a Prometheus label value (`rate_limited`);
    /// `success` for no error, `cancelled` and `error` for the rest.
    public static func result(_ error: (any Error)?) -> String {
        guard let error else { return "success" }
        if error is CancellationError { return "cancelled" }
        guard let rootKeyError = error as? RootKeyError else { return "error" }
        var label = ""
        for character in rootKeyError.code.description {
            if character.isUppercase {
                label.append("_")
                label.append(contentsOf: character.lowercased())
            } else {
                label.append(character)
            }
        }
        return label
    }
}

/// The key cache's metric handles, made once per cache.
struct KeyCacheMetrics: Sendable {
    let hits: Counter
    let misses: Counter
    let evictedForCapacity: Counter
    let expired: Counter
    let purged: Counter
    let entries: Gauge
    let bytes: Gauge

    init(factory: any MetricsFactory) {
        typealias N = RootKeysMetricNames
        self.hits = Counter(label: N.cacheHits, factory: factory)
        self.misses = Counter(label: N.cacheMisses, factory: factory)
        self.evictedForCapacity = Counter(
            label: N.cacheEvictions,
            dimensions: [("reason", "capacity")],
            factory: factory
        )
        self.expired = Counter(label: N.cacheEvictions, dimensions: [("reason", "expired")], factory: factory)
        self.purged = Counter(label: N.cacheEvictions, dimensions: [("reason", "purged")], factory: factory)
        self.entries = Gauge(label: N.cacheEntries, factory: factory)
        self.bytes = Gauge(label: N.cacheBytes, factory: factory)
    }
}

/// The unwrap batcher's metric handles, made once per batcher.
struct UnwrapBatcherMetrics: Sendable {
    let flightCallers: Recorder
    let coalesced: Counter
    let timeouts: Counter
    let inFlight: Gauge
    let queueDepth: Gauge

    init(factory: any MetricsFactory) {
        typealias N = RootKeysMetricNames
        self.flightCallers = Recorder(label: N.unwrapFlightCallers, aggregate: true, factory: factory)
        self.coalesced = Counter(label: N.unwrapCoalesced, factory: factory)
        self.timeouts = Counter(label: N.unwrapTimeouts, factory: factory)
        self.inFlight = Gauge(label: N.unwrapInFlight, factory: factory)
        self.queueDepth = Gauge(label: N.unwrapQueueDepth, factory: factory)
    }
}
