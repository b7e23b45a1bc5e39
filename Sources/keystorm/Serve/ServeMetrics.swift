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

import IOReactor
import KMIPServer
import Metrics
import Prometheus
import RootKeys
import Synchronization

/// The process's metrics: the Prometheus registry behind swift-metrics, bootstrapped once by
/// `keystorm serve` before anything makes a metric (the libraries take `MetricsSystem.factory`
/// when they are created).
enum KeystormMetrics {
    /// Latency buckets from 100 µs (a cached Get) to 10 s (the unwrap deadline).
    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// Creates the registry and makes it the process's metrics backend.
    static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.latencyBuckets
        let sizes: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
        factory.valueHistogramBuckets[RootKeysMetricNames.unwrapBatchSize] = sizes
        factory.valueHistogramBuckets[RootKeysMetricNames.unwrapFlightCallers] = sizes
        MetricsSystem.bootstrap(factory)
        return registry
    }
}

/// What `keystorm serve` itself reports: connections from its connection closure, and, folded in
/// before each scrape, the reactor's accept and handshake counters and the re-wrap job's progress.
///
/// | name | kind | dimensions |
/// |---|---|---|
/// | `keystorm_connections_open` | gauge | connections being served now (after their handshake) |
/// | `keystorm_connections_total` | counter | `result`: `served`, `no_client_rule` |
/// | `keystorm_connections_accepted_total` | counter | |
/// | `keystorm_connections_refused_total` | counter | `reason`: `limit`, `per-source` (handshakes of one source) |
/// | `keystorm_connections_evicted_total` | counter | handshaking connections evicted for newer ones |
/// | `keystorm_connections_low_priority_total` | counter | connections accepted at low priority (source not known) |
/// | `keystorm_memory_trims_total` | counter | times freed heap memory was given back after connections closed |
/// | `keystorm_connections_active` | gauge | connections open in the reactor (handshaking or served) |
/// | `keystorm_tls_handshakes_total` | counter | `result`: `full`, `resumed` |
/// | `keystorm_tls_handshake_failures_total` | counter | `reason`: `refused`, `timeout`, `closed`, `other` |
/// | `keystorm_rewrap_remaining_keys` | gauge | `tenant` |
/// | `keystorm_rewrap_keys_total` | counter | `tenant`, `result`: `rewrapped`, `failed`, `conflict` |
/// | `keystorm_rewrap_running` | gauge | `tenant` |
/// | `keystorm_keyprotect_requests_total` | counter | HTTP requests to Key Protect, retries included |
/// | `keystorm_keyprotect_retries_total` | counter | attempts made again after a 429, a 5xx or a connection failure |
/// | `keystorm_keyprotect_errors_total` | counter | `kind`: `rate_limited`, `server_error`, `connection`, `unauthorized_retry`, `exhausted`, `outage_refused` (failed at once: Key Protect did not answer the requests before) |
/// | `keystorm_keyprotect_token_refreshes_total` | counter | IAM tokens fetched |
final class ServeMetrics: Sendable {
    private let open = Meter(label: "keystorm_connections_open")
    private let served = Counter(label: "keystorm_connections_total", dimensions: [("result", "served")])
    private let noRule = Counter(label: "keystorm_connections_total", dimensions: [("result", "no_client_rule")])
    private let activeConnections = Gauge(label: "keystorm_connections_active")
    /// The last value folded into each counter, by name and labels.
    private let folded = Mutex<[String: Int]>([:])

    /// A connection passed its handshake and a client rule admitted it.
    func connectionOpened() {
        self.served.increment()
        self.open.increment()
    }

    /// A served connection closed.
    func connectionClosed() {
        self.open.decrement()
    }

    /// A connection passed its handshake but no client rule admits its certificate.
    func connectionRefusedByRules() {
        self.noRule.increment()
    }

    /// Folds the reactor's counters and the re-wrap progress into the registry (before a scrape).
    func collect(
        reactor: ReactorStatistics,
        rewrap: [RewrapProgress],
        keyProtect: KeyProtectRootKeyService.Statistics? = nil
    ) {
        self.activeConnections.record(reactor.activeConnections)
        self.fold("keystorm_connections_accepted_total", [], reactor.accepted)
        self.fold("keystorm_connections_refused_total", [("reason", "limit")], reactor.refused)
        self.fold("keystorm_connections_refused_total", [("reason", "per-source")], reactor.refusedPerSource)
        self.fold("keystorm_connections_evicted_total", [], reactor.evictedHandshakes)
        self.fold("keystorm_connections_low_priority_total", [], reactor.lowPriorityConnections)
        self.fold("keystorm_memory_trims_total", [], reactor.memoryTrims)
        self.fold("keystorm_tls_handshakes_total", [("result", "full")], reactor.fullHandshakes)
        self.fold("keystorm_tls_handshakes_total", [("result", "resumed")], reactor.resumedHandshakes)
        self.fold("keystorm_tls_handshake_failures_total", [("reason", "refused")], reactor.handshakeFailuresRefused)
        self.fold("keystorm_tls_handshake_failures_total", [("reason", "timeout")], reactor.handshakeFailuresTimeout)
        self.fold("keystorm_tls_handshake_failures_total", [("reason", "closed")], reactor.handshakeFailuresClosed)
        self.fold("keystorm_tls_handshake_failures_total", [("reason", "other")], reactor.handshakeFailuresOther)
        for progress in rewrap {
            let tenant = [("tenant", progress.tenantID)]
            Gauge(label: "keystorm_rewrap_remaining_keys", dimensions: tenant).record(progress.remaining)
            Gauge(label: "keystorm_rewrap_running", dimensions: tenant).record(progress.running ? 1 : 0)
            self.fold("keystorm_rewrap_keys_total", tenant + [("result", "rewrapped")], progress.rewrapped)
            self.fold("keystorm_rewrap_keys_total", tenant + [("result", "failed")], progress.failed)
            self.fold("keystorm_rewrap_keys_total", tenant + [("result", "conflict")], progress.conflicts)
        }
        if let keyProtect {
            self.fold("keystorm_keyprotect_requests_total", [], keyProtect.requests)
            self.fold("keystorm_keyprotect_retries_total", [], keyProtect.retries)
            self.fold("keystorm_keyprotect_token_refreshes_total", [], keyProtect.tokenRefreshes)
            let errors = "keystorm_keyprotect_errors_total"
            self.fold(errors, [("kind", "rate_limited")], keyProtect.rateLimited)
            self.fold(errors, [("kind", "server_error")], keyProtect.serverErrors)
            self.fold(errors, [("kind", "connection")], keyProtect.connectionErrors)
            self.fold(errors, [("kind", "unauthorized_retry")], keyProtect.unauthorizedRetries)
            self.fold(errors, [("kind", "exhausted")], keyProtect.exhausted)
            self.fold(errors, [("kind", "outage_refused")], keyProtect.outageRefusals)
        }
    }

    /// Increments a counter by what `total` grew since the last fold.
    private func fold(_ label: String, _ dimensions: [(String, String)], _ total: Int) {
        let key = label + dimensions.map { "\u{0}\($0.0)=\($0.1)" }.joined()
        let delta = self.folded.withLock { folded -> Int in
            let previous = folded[key] ?? 0
            folded[key] = max(previous, total)
            return total - previous
        }
        let counter = Counter(label: label, dimensions: dimensions)
        if delta > 0 {
            counter.increment(by: delta)
        }
    }
}
