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
import KMIPCodec
import KMIPModel
import Testing

extension LiveServerTests {
    /// Names that become paths, files made under a careless umask, half-sent admin requests and a
    /// disk filled through the audit log: what an attacker (or an accident) tries, on a live server.
    @Suite("Hostile input, live")
    struct HostileInputLiveTests {
        /// `..`, `.`, look-alike letters and separators are refused as tenant ids and client names
        /// by the CLI and the admin API; no issued file ever lands on the master key, and an
        /// existing client's files are never replaced.
        @Test func namesThatClimbOutOfTheDataDirectoryAreRefused() async throws {
            try await LiveServer.with { server in
                let masterPath = server.dataDirectory + "/master.key"
                let master = try Data(contentsOf: URL(fileURLWithPath: masterPath))
                let env = LiveServer.environment()
                for id in ["..", ".", "\u{0430}dmin", ".hidden", "a/b", String(repeating: "t", count: 65)] {
                    let outcome = try await Subprocess.run(
                        server.binary,
                        ["tenants", "create", id, "--data-dir", server.dataDirectory],
                        environment: env
                    )
                    #expect(!outcome.succeeded, "tenant id \(id) was accepted: \(outcome.output)")
                    #expect(outcome.output.contains("tenant id"), "\(id): \(outcome.output)")
                }
                let token = try String(contentsOfFile: server.dataDirectory + "/admin.token", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                let admin = try await server.adminPort()
                for id in ["..", ".", "\u{0430}dmin"] {
                    let answer = try await AdminHTTPProbe.request(
                        port: admin,
                        "POST",
                        "/v1/tenants",
                        token: token,
                        body: #"{"id":"\#(id)"}"#
                    )
                    #expect(answer.status == 400, "POST /v1/tenants \(id): \(answer.status) \(answer.body)")
                }

                // Client names: `..` and friends are refused before any file is written.
                for name in ["..", "../master", "../../master", ".master", "a/b"] {
                    let outcome = try await Subprocess.run(
                        server.binary,
                        [
                            "clients", "issue", "--tenant", "default", "--name", name, "--data-dir",
                            server.dataDirectory,
                        ],
                        environment: env
                    )
                    #expect(!outcome.succeeded, "client name \(name) was accepted: \(outcome.output)")
                    #expect(outcome.output.contains("client name"), "\(name): \(outcome.output)")
                }
                // A second issue under an existing name fails; the first key is untouched.
                let first = try await server.issueClient(tenant: "default", name: "vcenter-01")
                let firstKey = try Data(contentsOf: URL(fileURLWithPath: first.identity.key))
                let again = try await Subprocess.run(
                    server.binary,
                    [
                        "clients", "issue", "--tenant", "default", "--name", "vcenter-01", "--data-dir",
                        server.dataDirectory,
                    ],
                    environment: env
                )
                #expect(!again.succeeded, "a second issue replaced vcenter-01: \(again.output)")
                #expect(again.output.contains("already exists"), "\(again.output)")
                #expect(try Data(contentsOf: URL(fileURLWithPath: first.identity.key)) == firstKey)

                #expect(try Data(contentsOf: URL(fileURLWithPath: masterPath)) == master)
                let tenants = try await server.cli(["tenants", "list"])
                #expect(!tenants.contains("\u{0430}dmin") && !tenants.contains(" .. "), "\(tenants)")

                // The server still starts on its master key and serves the client issued above.
                try await server.restart()
                let client = try server.client(first.identity)
                let uid = try await client.createKey()
                #expect(try await client.keyMaterial(uid).material?.count == 32)
            }
        }

        /// Under `umask 000` every file in the data directory is owner-only, except certificates
        /// (0644); the store, its WAL and shared memory, keys, token and audit log are 0600.
        @Test func filesAreOwnerOnlyWhateverTheUmask() async throws {
            try await LiveServer.with(umask: "000") { server in
                let client = try server.client()
                let uid = try await client.createKey()
                #expect(try await client.keyMaterial(uid).material?.count == 32)
                _ = try await server.issueClient(tenant: "default", name: "vcenter-02")

                let root = server.dataDirectory
                func mode(_ path: String) throws -> Int {
                    try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
                }
                for path in [
                    "keystorm.sqlite", "keystorm.sqlite-wal", "keystorm.sqlite-shm", "master.key", "audit.log",
                    "admin.token",
                    "tls/server.key", "tls/server-ca.key", "tls/client-ca.key", "clients/default/vcenter-02.key",
                ] {
                    let bits = try mode(root + "/" + path)
                    #expect(bits == 0o600, "\(path) is \(String(bits, radix: 8))")
                }
                #expect(try mode(root) == 0o700)
                // Nothing anywhere in the data directory is writable by others or group, and
                // nothing but a certificate is readable by them.
                let enumerator = FileManager.default.enumerator(atPath: root)
                while let relative = enumerator?.nextObject() as? String {
                    let bits = try mode(root + "/" + relative)
                    #expect(bits & 0o022 == 0, "\(relative) is \(String(bits, radix: 8))")
                    if !relative.hasSuffix(".pem") {
                        #expect(bits & 0o077 == 0, "\(relative) is \(String(bits, radix: 8))")
                    }
                }
            }
        }

        /// A peer that opens the admin listener and sends half a request header (or a body that
        /// never comes) is cut off after the request timeout (10 s), not held for minutes.
        @Test func halfSentAdminRequestsAreClosed() async throws {
            try await LiveServer.with { server in
                let admin = try await server.adminPort()
                let start = ContinuousClock.now
                let header = try await AdminHTTPProbe.sendAndAwaitClose(
                    port: admin,
                    Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8),
                    wait: 45
                )
                #expect(header.closed, "a half-sent header was held open for 45 s")
                let body = try await AdminHTTPProbe.sendAndAwaitClose(
                    port: admin,
                    Array("POST /v1/tenants HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"id\":".utf8),
                    wait: 45
                )
                #expect(body.closed, "a body that never came was held open for 45 s")
                print(
                    "half-sent admin requests closed after \(ContinuousClock.now - start) in all; body answer: \(body.answer.prefix(40))"
                )
                // The listener still serves.
                let ready = try await AdminHTTPProbe.request(port: admin, "GET", "/healthz")
                #expect(ready.status == 200)
            }
        }
    }
}
