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
import KeystormTestSupport
import Testing

extension LiveServerTests {
    /// Measurements under contention with PyKMIP clients (Tests/Scripts/pykmip_contention.py),
    /// against the binary of `KEYSTORM_BINARY` (or the one beside the tests). They take minutes,
    /// so they run only with `KEYSTORM_MEASURE` set, and need `KEYSTORM_PYKMIP_PYTHON`.
    /// Tuning/results/2026-12-07-edits-and-locate.md has the figures.
    @Suite("Contention measurements, live", .serialized)
    struct ContentionMeasurementLiveTests {
        static let python = ProcessInfo.processInfo.environment["KEYSTORM_PYKMIP_PYTHON"].flatMap {
            $0.isEmpty ? nil : $0
        }
        static let enabled = python != nil && ProcessInfo.processInfo.environment["KEYSTORM_MEASURE"] != nil
        static let script = Fixtures.packageRoot + "/Tests/Scripts/pykmip_contention.py"

        static func run(_ server: LiveServer, _ measurement: String, _ options: [String]) async throws -> String {
            let python = try #require(Self.python)
            let outcome = try await Subprocess.run(
                python,
                [
                    "-W", "ignore::DeprecationWarning", Self.script, measurement, "--port", String(server.port), "--ca",
                    server.serverCA, "--cert", server.testClientCertificate, "--key", server.testClientKey,
                ] + options,
                timeout: .seconds(1_800)
            )
            #expect(outcome.succeeded, "pykmip_contention.py \(measurement) failed:\n\(outcome.output)")
            let results = outcome.output.split(separator: "\n").filter { $0.hasPrefix("RESULT") }
            print(results.joined(separator: "\n"))
            return results.joined(separator: "\n")
        }

        /// Six clients Set Attribute on one key, 300 times each: every request succeeds and no
        /// store error is counted.
        @Test(.enabled(if: Self.enabled, "skipped: KEYSTORM_MEASURE or KEYSTORM_PYKMIP_PYTHON not set"))
        func concurrentEditsOfOneKey() async throws {
            try await LiveServer.with { server in
                let results = try await Self.run(server, "edits", ["--clients", "6", "--count", "300"])
                #expect(results.contains("succeeded=1800 failed=0"), "\(results)")
                let metrics = try await AdminHTTPProbe.request(port: try await server.adminPort(), "GET", "/metrics")
                let storeErrors = metrics.body.split(separator: "\n").filter {
                    $0.hasPrefix("keystorm_store_errors_total")
                }
                print(storeErrors.joined(separator: "\n"))
                #expect(storeErrors.allSatisfy { $0.hasSuffix(" 0") }, "\(storeErrors)")
            }
        }

        /// 27,000 keys; Get latency alone and while four clients Locate without a filter.
        @Test(.enabled(if: Self.enabled, "skipped: KEYSTORM_MEASURE or KEYSTORM_PYKMIP_PYTHON not set"))
        func locateStormOnALargeTenant() async throws {
            try await LiveServer.with { server in
                _ = try await Self.run(
                    server,
                    "locate-storm",
                    ["--keys", "27000", "--locators", "4", "--seconds", "15"]
                )
            }
        }
    }
}
