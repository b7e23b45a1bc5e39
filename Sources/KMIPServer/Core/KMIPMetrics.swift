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

import KMIPModel
import Metrics
import Synchronization

/// The metric names the KMIP server reports through swift-metrics (the executable bootstraps the
/// Prometheus factory; this target depends on the swift-metrics API only).
///
/// | name | kind | dimensions |
/// |---|---|---|
/// | `keystorm_kmip_operations_total` | counter | `operation` (`Get`), `status` (`Success`, `OperationFailed`), `reason` (`ItemNotFound`, `none`) |
/// | `keystorm_kmip_operation_duration_seconds` | histogram | `operation` |
/// | `keystorm_kmip_message_failures_total` | counter | `reason`: a whole request message refused before its items ran |
/// | `keystorm_store_duration_seconds` | histogram | `operation`: `read`, `insert`, `update`, `tenant`, `query` |
/// | `keystorm_store_errors_total` | counter | `operation` |
///
/// Operation and reason names outside the KMIP enumerations are reported as `unknown`, so that a
/// client cannot grow the number of series.
public enum KMIPMetricNames {
    public static let operations = "keystorm_kmip_operations_total"
    public static let operationDuration = "keystorm_kmip_operation_duration_seconds"
    public static let messageFailures = "keystorm_kmip_message_failures_total"
    public static let storeDuration = "keystorm_store_duration_seconds"
    public static let storeErrors = "keystorm_store_errors_total"
}

/// The KMIP server's metric handles: made on first use per label set, then reused (a lock and a
/// dictionary lookup per operation; the counters themselves are atomics).
final class KMIPMetrics: Sendable {
    /// The handles of the process-wide factory, made when first used (after the executable's
    /// bootstrap).
    static let shared = KMIPMetrics(factory: MetricsSystem.factory)

    private let factory: any MetricsFactory
    private let counters = Mutex<[String: Counter]>([:])
    private let timers = Mutex<[String: Metrics.Timer]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Counts and times one batch item.
    func operation(_ operation: KMIPModel.Operation?, status: ResultStatus, reason: ResultReason?, elapsed: Duration) {
        let name = operation.map { Self.known($0) } ?? "none"
        let statusName = Self.known(status)
        let reasonName = reason.map { Self.known($0) } ?? "none"
        self.counter(
            KMIPMetricNames.operations,
            [("operation", name), ("status", statusName), ("reason", reasonName)]
        ).increment()
        self.timer(KMIPMetricNames.operationDuration, [("operation", name)]).record(duration: elapsed)
    }

    /// Counts a request message refused as a whole.
    func messageFailure(_ reason: ResultReason) {
        self.counter(KMIPMetricNames.messageFailures, [("reason", Self.known(reason))]).increment()
    }

    /// Times one key-store call.
    func store(_ operation: String, failed: Bool, elapsed: Duration) {
        self.timer(KMIPMetricNames.storeDuration, [("operation", operation)]).record(duration: elapsed)
        if failed { self.counter(KMIPMetricNames.storeErrors, [("operation", operation)]).increment() }
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = Self.key(label, dimensions)
        return self.counters.withLock { counters in
            if let existing = counters[key] { return existing }
            let made = Counter(label: label, dimensions: dimensions, factory: self.factory)
            counters[key] = made
            return made
        }
    }

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> Metrics.Timer {
        let key = Self.key(label, dimensions)
        return self.timers.withLock { timers in
            if let existing = timers[key] { return existing }
            let made = Metrics.Timer(label: label, dimensions: dimensions, factory: self.factory)
            timers[key] = made
            return made
        }
    }

    private static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        var key = label
        for (name, value) in dimensions {
            key += "\u{0}" + name + "=" + value
        }
        return key
    }

    /// The enumeration's profile name, or `unknown` for a value the specification does not name.
    static func known<E: KMIPEnumeration>(_ value: E) -> String {
        E.valueNames[value.rawValue] ?? "unknown"
    }
}
