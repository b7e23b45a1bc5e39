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

import Foundation

extension LoadReport {
    /// The report as pretty-printed JSON with sorted keys.
    func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// A number with `digits` decimals (no locale).
    static func format(_ value: Double, _ digits: Int = 3) -> String {
        guard value.isFinite else { return "-" }
        return String(format: "%.\(digits)f", value)
    }

    /// The report as Markdown: configuration, counts, throughput, a percentile table and errors.
    func markdown() -> String {
        var lines: [String] = []
        let c = self.configuration
        lines.append("# keystorm-load \(self.scenario): \(Self.format(self.throughput, 1)) \(self.operation)/s")
        lines.append("")
        lines.append("- started: \(self.startedAt)")
        lines.append("- targets: \(self.targets.joined(separator: ", "))")
        var shape: [String] = []
        if let hosts = c.hosts, let perHost = c.keysPerHost {
            shape.append("\(hosts) hosts × \(perHost) keys per host")
        }
        if let keys = c.keys { shape.append("\(keys) distinct keys") }
        if let popularity = c.popularity { shape.append("popularity \(popularity)") }
        if !shape.isEmpty { lines.append("- storm: " + shape.joined(separator: ", ")) }
        lines.append(
            "- connections: \(c.connectionPerOperation ? "one TLS connection per operation" : "persistent"), "
                + "TLS resumption \(c.resumption ? "on" : "off"), concurrency \(c.concurrency), KMIP \(c.kmipVersion)"
        )
        var limits: [String] = []
        if let count = c.countLimit { limits.append("count \(count)") }
        if let duration = c.durationLimit { limits.append("duration \(Self.format(duration, 1)) s") }
        if !limits.isEmpty { lines.append("- bounded by: " + limits.joined(separator: ", ")) }
        if let setup = self.setup {
            lines.append(
                "- setup: \(setup.keys) keys, \(setup.created) created (\(Self.format(setup.createRate, 1)) Create+Activate/s), "
                    + "\(setup.reused) reused, \(Self.format(setup.seconds, 2)) s"
            )
        }
        lines.append("")
        lines.append("| operations | succeeded | failed | connections | failovers | seconds | \(self.operation)/s |")
        lines.append("|---:|---:|---:|---:|---:|---:|---:|")
        lines.append(
            "| \(self.operations) | \(self.succeeded) | \(self.failed) | \(self.connections) | \(self.failovers) "
                + "| \(Self.format(self.seconds, 3)) | \(Self.format(self.throughput, 1)) |"
        )
        lines.append("")
        lines.append("Latency (ms, HdrHistogram, 3 significant digits):")
        lines.append("")
        lines.append("| phase | count | p50 | p90 | p99 | p99.9 | max | mean |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        var rows: [(String, LatencySummary)] = []
        for name in ["connect", "handshake", "operation", "total"] {
            if let summary = self.latency[name] { rows.append((name, summary)) }
        }
        for (name, summary) in self.byOperation.sorted(by: { $0.key < $1.key }) {
            rows.append(("operation: \(name)", summary))
        }
        for (name, s) in rows {
            lines.append(
                "| \(name) | \(s.count) | \(Self.format(s.p50)) | \(Self.format(s.p90)) | \(Self.format(s.p99)) "
                    + "| \(Self.format(s.p999)) | \(Self.format(s.max)) | \(Self.format(s.mean)) |"
            )
        }
        lines.append("")
        if self.errors.isEmpty {
            lines.append("Errors: none.")
        } else {
            lines.append("| error | count | first seen |")
            lines.append("|---|---:|---|")
            for (key, count) in self.errors.sorted(by: { $0.key < $1.key }) {
                let example = (self.errorExamples[key] ?? "").replacingOccurrences(of: "|", with: "\\|")
                    .replacingOccurrences(of: "\n", with: " ")
                lines.append("| \(key) | \(count) | \(example.prefix(160)) |")
            }
        }
        lines.append("")
        return lines.joined(separator: "\n")
    }
}
