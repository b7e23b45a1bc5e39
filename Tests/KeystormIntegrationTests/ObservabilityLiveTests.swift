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
import KMIPModel
import KeystormTestSupport
import Testing

extension LiveServerTests {
    /// The admin listener of a live `keystorm serve`: `/metrics` parsed by the reference parser
    /// (prometheus_client, from the venv in `KEYSTORM_PYKMIP_PYTHON`), `/healthz`, `/readyz`, the
    /// bearer token of the `/v1` API, the CLI going through the API, and the refusal of an admin
    /// address off the loopback network.
    @Suite("Metrics and admin API, live")
    struct ObservabilityLiveTests {
        static let python = ProcessInfo.processInfo.environment["KEYSTORM_PYKMIP_PYTHON"].flatMap {
            $0.isEmpty ? nil : $0
        }
        static let script = Fixtures.packageRoot + "/Tests/Scripts/scrape_metrics.py"

        /// One parsed scrape.
        struct Scrape {
            var contentType: String
            /// Family name (without `_total` for counters, as the parser names them) to type.
            var families: [String: String]
            var samples: [(name: String, labels: [String: String], value: Double)]

            /// The sum of the samples named `name` whose labels include `labels`.
            func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
                self.samples.filter { sample in
                    sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
                }.reduce(0) { $0 + $1.value }
            }
        }

        static func scrape(_ python: String, port: Int) async throws -> Scrape {
            let outcome = try await Subprocess.run(python, [Self.script, "--url", "http://127.0.0.1:\(port)/metrics"])
            guard outcome.succeeded else {
                throw LiveTestFailure("scrape_metrics.py failed (\(outcome.status)):\n\(outcome.output)")
            }
            guard let object = try JSONSerialization.jsonObject(with: Data(outcome.output.utf8)) as? [String: Any],
                let families = object["families"] as? [String: String],
                let rows = object["samples"] as? [[Any]]
            else { throw LiveTestFailure("unexpected output of scrape_metrics.py:\n\(outcome.output)") }
            let samples = rows.compactMap { row -> (String, [String: String], Double)? in
                guard row.count == 3, let name = row[0] as? String, let labels = row[1] as? [String: String],
                    let value = (row[2] as? NSNumber)?.doubleValue
                else { return nil }
                return (name, labels, value)
            }
            return Scrape(contentType: object["content_type"] as? String ?? "", families: families, samples: samples)
        }

        static func token(_ server: LiveServer) throws -> String {
            try String(contentsOfFile: server.dataDirectory + "/admin.token", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }

        @Test(
            "The counters of /metrics move with the KMIP operations, and parse as Prometheus text",
            .enabled(
                if: Self.python != nil,
                "skipped: KEYSTORM_PYKMIP_PYTHON (the venv with prometheus_client) not set"
            )
        )
        func countersMoveWithOperations() async throws {
            let python = try #require(Self.python)
            try await LiveServer.with { server in
                let port = try await server.adminPort()
                let before = try await Self.scrape(python, port: port)
                #expect(before.contentType.hasPrefix("text/plain; version=0.0.4"), "\(before.contentType)")

                let client = try server.client()
                let uid = try await client.createKey(name: "metrics-key")
                let first = try await client.keyMaterial(uid)
                #expect(first.material?.count == 32)
                let second = try await client.keyMaterial(uid)
                #expect(second.material == first.material)
                let missing = try await client.call(
                    GetRequest(uniqueIdentifier: .text("00000000-0000-0000-0000-000000000000"))
                )
                expectFailure(missing, .itemNotFound, "Get of an unknown key")
                let after = try await Self.scrape(python, port: port)

                func delta(_ name: String, _ labels: [String: String] = [:]) -> Double {
                    after.value(name, labels) - before.value(name, labels)
                }
                let operations = "keystorm_kmip_operations_total"
                #expect(delta(operations, ["operation": "Create", "status": "Success", "reason": "none"]) == 1)
                #expect(delta(operations, ["operation": "Get", "status": "Success", "reason": "none"]) == 2)
                #expect(
                    delta(operations, ["operation": "Get", "status": "OperationFailed", "reason": "ItemNotFound"]) == 1
                )
                #expect(delta("keystorm_kmip_operation_duration_seconds_count", ["operation": "Get"]) == 3)
                #expect(
                    delta("keystorm_kmip_operation_duration_seconds_bucket", ["operation": "Get", "le": "+Inf"]) == 3
                )
                #expect(after.families["keystorm_kmip_operations"] == "counter")
                #expect(after.families["keystorm_kmip_operation_duration_seconds"] == "histogram")
                // Four connections, each with a handshake and served under a client rule.
                #expect(delta("keystorm_connections_total", ["result": "served"]) == 4)
                #expect(delta("keystorm_tls_handshakes_total") == 4)
                #expect(delta("keystorm_connections_accepted_total") >= 4)
                // The first came from a source with no completed handshake yet (low priority);
                // the other three from a source known by then.
                #expect(delta("keystorm_connections_low_priority_total") == 1)
                // The key cache answered at least the second Get; the key was wrapped by the Local provider.
                #expect(delta("keystorm_key_cache_hits_total") >= 1)
                #expect(after.value("keystorm_key_cache_entries") >= 1)
                #expect(after.value("keystorm_key_cache_bytes") >= 32)
                #expect(
                    delta(
                        "keystorm_root_key_calls_total",
                        ["provider": "local", "operation": "wrap", "result": "success"]
                    ) == 1
                )
                #expect(delta("keystorm_store_duration_seconds_count", ["operation": "read"]) >= 3)
                #expect(delta("keystorm_store_duration_seconds_count", ["operation": "insert"]) == 1)
                #expect(after.families["keystorm_unwrap_in_flight"] == "gauge")
            }
        }

        @Test("/healthz and /readyz answer; /v1 needs the token; the CLI goes through the running server")
        func healthReadinessAndToken() async throws {
            try await LiveServer.with { server in
                let port = try await server.adminPort()
                let token = try Self.token(server)
                let mode =
                    try FileManager.default.attributesOfItem(atPath: server.dataDirectory + "/admin.token")[
                        .posixPermissions
                    ] as? NSNumber
                #expect(mode?.intValue == 0o600)

                let health = try await AdminHTTPProbe.request(port: port, "GET", "/healthz")
                #expect(health.status == 200)
                let ready = try await AdminHTTPProbe.request(port: port, "GET", "/readyz")
                #expect(ready.status == 200, "\(ready.body)")
                #expect(ready.body.contains("\"ready\""))

                let anonymous = try await AdminHTTPProbe.request(port: port, "GET", "/v1/tenants")
                #expect(anonymous.status == 401)
                #expect(anonymous.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
                let wrong = try await AdminHTTPProbe.request(
                    port: port,
                    "GET",
                    "/v1/tenants",
                    token: String(repeating: "0", count: 64)
                )
                #expect(wrong.status == 401)
                let anonymousWrite = try await AdminHTTPProbe.request(
                    port: port,
                    "POST",
                    "/v1/tenants",
                    body: #"{"id":"intruder"}"#
                )
                #expect(anonymousWrite.status == 401)
                let listed = try await AdminHTTPProbe.request(port: port, "GET", "/v1/tenants", token: token)
                #expect(listed.status == 200)
                #expect(listed.body.contains("\"id\":\"default\""))
                #expect(!listed.body.contains("intruder"))

                // The API creates a tenant; the CLI, finding the server, goes through the API too.
                let created = try await AdminHTTPProbe.request(
                    port: port,
                    "POST",
                    "/v1/tenants",
                    token: token,
                    body: #"{"id":"api-tenant"}"#
                )
                #expect(created.status == 201, "\(created.body)")
                let duplicate = try await AdminHTTPProbe.request(
                    port: port,
                    "POST",
                    "/v1/tenants",
                    token: token,
                    body: #"{"id":"api-tenant"}"#
                )
                #expect(duplicate.status == 409, "\(duplicate.body)")
                #expect(try await server.cli(["tenants", "list"]).contains("api-tenant"))

                // Keys: revoke through the CLI (the server's executor and cache), then Get fails.
                let client = try server.client()
                let uid = try await client.createKey()
                #expect(try await client.keyMaterial(uid).material != nil)
                let prewarm = try await server.cli(["keys", "prewarm", "--tenant", "default"])
                #expect(prewarm.contains("in the running server"), "\(prewarm)")
                let listedKeys = try await AdminHTTPProbe.request(
                    port: port,
                    "GET",
                    "/v1/tenants/default/keys",
                    token: token
                )
                #expect(listedKeys.body.contains(uid.description), "\(listedKeys.body)")
                try await server.cli(["keys", "revoke", "--tenant", "default", uid.description])
                #expect(try await client.state(of: uid) == .deactivated)
                let unknown = try await AdminHTTPProbe.request(
                    port: port,
                    "POST",
                    "/v1/tenants/default/keys/no-such-key/destroy",
                    token: token
                )
                #expect(unknown.status == 404, "\(unknown.body)")
                let status = try await AdminHTTPProbe.request(
                    port: port,
                    "GET",
                    "/v1/tenants/default/root-key",
                    token: token
                )
                #expect(status.status == 200)
                #expect(status.body.contains("\"state\":\"active\""), "\(status.body)")
                let unconfirmed = try await AdminHTTPProbe.request(
                    port: port,
                    "DELETE",
                    "/v1/tenants/default/root-key",
                    token: token
                )
                #expect(unconfirmed.status == 400)
            }
        }

        @Test(
            "/readyz is 503 with a reason while the root-key service (Key Protect, emulated) does not answer, 200 after"
        )
        func readinessFollowsTheRootKeyService() async throws {
            let apiKey = "keystorm-readiness-api-key"
            try await KeyProtectEmulatorProcess.with(.init(apiKeys: [apiKey])) { emulator in
                let directory = NSTemporaryDirectory() + "keystorm-readyz-" + UUID().uuidString.prefix(8).lowercased()
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: directory) }
                let keyFile = directory + "/api-key"
                let config = directory + "/keystorm.toml"
                try apiKey.write(toFile: keyFile, atomically: true, encoding: .utf8)
                try """
                root-keys = "keyprotect"
                [keyprotect]
                url = "\(emulator.baseURL)"
                iam-url = "\(emulator.baseURL)/identity/token"
                instance-id = "\(emulator.instanceID)"
                api-key-file = "\(keyFile)"
                retry-budget = "2s"
                request-timeout = "2s"
                """.write(toFile: config, atomically: true, encoding: .utf8)
                try await LiveServer.with(arguments: ["--config", config]) { server in
                    let port = try await server.adminPort()
                    let ready = try await AdminHTTPProbe.request(port: port, "GET", "/readyz")
                    #expect(ready.status == 200, "\(ready.body)")

                    try await emulator.setFaults(.init(outage: true))
                    let down = try await retrying(
                        timeout: .seconds(60),
                        every: .milliseconds(200),
                        "/readyz answering 503"
                    ) {
                        () -> AdminHTTPProbe.Answer? in
                        let answer = try await AdminHTTPProbe.request(port: port, "GET", "/readyz")
                        return answer.status == 503 ? answer : nil
                    }
                    #expect(down.body.contains("not ready"), "\(down.body)")
                    #expect(down.body.contains("keyprotect root-key service does not answer"), "\(down.body)")
                    // The provider's counters are folded into /metrics: the outage's 503s show.
                    let metrics = try await AdminHTTPProbe.request(port: port, "GET", "/metrics")
                    #expect(metrics.body.contains(#"keystorm_keyprotect_errors_total{kind="server_error"}"#))
                    #expect(metrics.body.contains("keystorm_keyprotect_requests_total"))

                    try await emulator.setFaults(.init(outage: false))
                    _ = try await retrying(
                        timeout: .seconds(60),
                        every: .milliseconds(200),
                        "/readyz answering 200 again"
                    ) {
                        () -> Bool? in
                        try await AdminHTTPProbe.request(port: port, "GET", "/readyz").status == 200 ? true : nil
                    }
                }
            }
        }

        @Test(
            "An admin address off the loopback network without admin.allow-remote stops the start with a clear message"
        )
        func nonLoopbackAdminAddressIsRefused() async throws {
            let binary = try LiveServer.locateBinary()
            let root = NSTemporaryDirectory() + "keystorm-admin-remote-" + UUID().uuidString.prefix(8).lowercased()
            defer { try? FileManager.default.removeItem(atPath: root) }
            let outcome = try await Subprocess.run(
                binary,
                ["serve", "--data-dir", root + "/data", "--listen", "127.0.0.1:0", "--admin-listen", "0.0.0.0:0"],
                environment: LiveServer.environment()
            )
            #expect(!outcome.succeeded)
            #expect(outcome.output.contains("admin-listen 0.0.0.0 is not a loopback address"), "\(outcome.output)")
            #expect(outcome.output.contains("admin.allow-remote = true"), "\(outcome.output)")
        }
    }
}
