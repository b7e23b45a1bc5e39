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
import KeystormSpawn
import Testing

/// The PostgreSQL server of the test run (`.ci/postgres`, started by `.ci/run`).
enum ClusterDatabase {
    static var serverURL: String? {
        ProcessInfo.processInfo.environment["KEYSTORM_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Creates a database of its own on the test server, runs `body` with its URL, and drops it.
    static func with<T>(_ body: (_ url: String) async throws -> T) async throws -> T {
        let server = try #require(serverURL, "KEYSTORM_TEST_POSTGRES_URL is not set")
        let slash = try #require(server.lastIndex(of: "/"))
        let name = "keystorm_cluster_" + UUID().uuidString.prefix(8).lowercased()
        try await Self.psql(server, "CREATE DATABASE \(name)")
        let url = server[..<slash] + "/" + name
        do {
            let result = try await body(String(url))
            try await Self.psql(server, "DROP DATABASE \(name) WITH (FORCE)")
            return result
        } catch {
            try? await Self.psql(server, "DROP DATABASE \(name) WITH (FORCE)")
            throw error
        }
    }

    static func psql(_ url: String, _ sql: String) async throws {
        let psql = try #require(ChildProcess.onPath("psql"), "psql is not installed (apt-get install postgresql)")
        let outcome = try await Subprocess.run(psql, [url, "-v", "ON_ERROR_STOP=1", "-qc", sql])
        guard outcome.succeeded else { throw LiveTestFailure("psql \(sql): \(outcome.output)") }
    }
}

extension LiveServerTests {
    /// Two `keystorm serve` processes on one PostgreSQL database, as two servers of one vCenter key
    /// provider: each answers every operation on every key, whichever node created it.
    @Suite(
        "Two nodes, one PostgreSQL store",
        .enabled(
            if: ClusterDatabase.serverURL != nil,
            "skipped: KEYSTORM_TEST_POSTGRES_URL is not set (bash .ci/run starts a PostgreSQL server for the tests)"
        )
    )
    struct ClusterLiveTests {
        /// Starts node A on `url`, then node B with A's master key (the one file a node copies).
        static func withTwoNodes<T>(
            _ url: String,
            arguments: [String] = [],
            _ body: (_ a: LiveServer, _ b: LiveServer) async throws -> T
        ) async throws -> T {
            try await LiveServer.with(arguments: ["--store", url] + arguments) { a in
                let b = try await LiveServer.start(arguments: ["--store", url] + arguments) { directory in
                    try FileManager.default.createDirectory(
                        atPath: directory,
                        withIntermediateDirectories: true,
                        attributes: [.posixPermissions: 0o700]
                    )
                    try FileManager.default.copyItem(
                        atPath: a.dataDirectory + "/master.key",
                        toPath: directory + "/master.key"
                    )
                }
                do {
                    let result = try await body(a, b)
                    await b.stop()
                    return result
                } catch {
                    await b.stop()
                    throw error
                }
            }
        }

        /// The value of `keystorm_rewrap_keys_total{tenant="default",result="rewrapped"}` of `node`.
        static func rewrapped(_ node: LiveServer) async throws -> Int {
            let metrics = try await AdminHTTPProbe.request(port: try await node.adminPort(), "GET", "/metrics")
            for line in metrics.body.split(separator: "\n")
            where line.hasPrefix("keystorm_rewrap_keys_total{")
                && line.contains("result=\"rewrapped\"") && line.contains("tenant=\"default\"")
            {
                return Int(Double(line.split(separator: " ").last ?? "") ?? -1)
            }
            return 0
        }

        @Test func aRotationOnOneNodeIsReWrappedOnceAcrossTheCluster() async throws {
            // Paced at 8 re-wraps a second, the pass outlasts the other node's next refresh, so
            // both would re-wrap if the lease did not keep one of them out.
            let config = NSTemporaryDirectory() + "keystorm-rewrap-\(UUID().uuidString.prefix(8)).toml"
            try "[rewrap]\nrate = 8\n".write(toFile: config, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: config) }
            try await ClusterDatabase.with { url in
                try await Self.withTwoNodes(url, arguments: ["--config", config]) { a, b in
                    let onA = try a.client()
                    let onB = try b.client(a.testClient)
                    var material: [UniqueIdentifier: [UInt8]] = [:]
                    for index in 0..<30 {
                        let uid = try await (index.isMultiple(of: 2) ? onA : onB).createKey()
                        let bytes = try #require(try await onA.keyMaterial(uid).material)
                        material[uid] = bytes
                    }
                    let rotated = try await Self.cli(a, store: url, ["root-key", "rotate", "--tenant", "default"])
                    #expect(rotated.contains("to version 2"), "\(rotated)")
                    _ = try await retrying(timeout: .seconds(120), "every key re-wrapped to version 2") { () -> Bool? in
                        let status = try await Self.cli(b, store: url, ["root-key", "status", "--tenant", "default"])
                        return status.contains("v2: 30") ? true : nil
                    }
                    // One node did the work (the other saw its lease), and every key reads back
                    // the same through both.
                    let counts = [try await Self.rewrapped(a), try await Self.rewrapped(b)]
                    #expect(counts.reduce(0, +) == 30, "re-wraps per node: \(counts)")
                    #expect(counts.contains(0), "both nodes re-wrapped: \(counts)")
                    for (uid, bytes) in material {
                        #expect(try await onA.keyMaterial(uid).material == bytes)
                        #expect(try await onB.keyMaterial(uid).material == bytes)
                    }
                }
            }
        }

        /// The lines of `path` (none when it does not exist yet).
        static func lines(_ path: String) -> [String] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        /// vCenter's pattern against both nodes while node A is killed: the load goes on through B,
        /// and every Create answered Success reads back, identical on both nodes.
        @Test func theLoadGoesOnThroughBWhenAIsKilledAndNoAcknowledgedCreateIsLost() async throws {
            let load = try KeystormLoadLiveTests.loadBinary()
            try await ClusterDatabase.with { url in
                try await Self.withTwoNodes(url) { a, b in
                    let bundle = a.root + "/both-server-cas.pem"
                    let cas =
                        try String(contentsOfFile: a.serverCA, encoding: .utf8)
                        + String(contentsOfFile: b.serverCA, encoding: .utf8)
                    try cas.write(toFile: bundle, atomically: true, encoding: .utf8)
                    let created = a.root + "/created.txt"
                    let report = a.root + "/mixed.json"
                    let runner = try ChildProcess(
                        .init(
                            load,
                            [
                                "mixed", "--target", "127.0.0.1:\(a.port)", "--target", "127.0.0.1:\(b.port)",
                                "--ca", bundle, "--cert", a.testClientCertificate, "--key", a.testClientKey,
                                "--keys", "20", "--duration", "10", "--concurrency", "8", "--connection-per-op",
                                "--timeout", "10", "--created-file", created, "--json", report, "--quiet",
                            ],
                            output: .file(a.root + "/load.log"),
                            error: .withOutput,
                            diesWithParent: true
                        )
                    )
                    // Kill A once the load has created keys through the cluster.
                    _ = try await retrying(timeout: .seconds(60), every: .milliseconds(50), "Creates under load") {
                        () -> Bool? in
                        Self.lines(created).count >= 10 ? true : nil
                    }
                    try await a.kill9()
                    let atKill = Self.lines(created).count
                    guard await runner.wait(timeout: .seconds(180)) != nil else {
                        runner.signal(SIGKILL)
                        throw LiveTestFailure("keystorm-load did not finish")
                    }
                    let data = try Data(contentsOf: URL(fileURLWithPath: report))
                    let summary = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
                    let uids = Self.lines(created)
                    print(
                        "failover: \(uids.count) Creates acknowledged (\(atKill) before the kill), "
                            + "\(summary["succeeded"] ?? "?") operations succeeded, \(summary["failed"] ?? "?") failed"
                    )
                    #expect(uids.count > atKill, "no Create succeeded through B after A was killed")
                    #expect(Set(uids).count == uids.count)

                    // Every acknowledged Create reads back through B, and through A once it is back.
                    let onB = try b.client(a.testClient)
                    var material: [String: [UInt8]] = [:]
                    for uid in uids {
                        let got = try await onB.keyMaterial(.text(uid))
                        material[uid] = got.material
                        #expect(got.material != nil, "\(uid): \(got.item.resultMessage ?? "")")
                    }
                    try await a.launch()
                    let onA = try a.client()
                    for uid in uids {
                        #expect(try await onA.keyMaterial(.text(uid)).material == material[uid])
                    }
                }
            }
        }

        /// `.ci/postgres` of this repository.
        static var postgresScript: String {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".ci/postgres").path
        }

        static func postgres(_ command: String, _ directories: String...) async throws -> String {
            let outcome = try await Subprocess.run("/bin/bash", [Self.postgresScript, command] + directories)
            guard outcome.succeeded else { throw LiveTestFailure(".ci/postgres \(command): \(outcome.output)") }
            return outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// `host:port` of a `postgres://user:password@host:port/database` URL.
        static func server(of url: String) throws -> Substring {
            let start = try #require(url.lastIndex(of: "@"))
            let end = try #require(url.lastIndex(of: "/"))
            return url[url.index(after: start)..<end]
        }

        /// PostgreSQL's own HA under a node: synchronous streaming replication to a standby, the
        /// primary killed, the standby promoted. The node finds the new primary by itself (both are
        /// in its URL) and every Create it acknowledged before is there.
        @Test func aPromotedStandbyTakesOverAndNoAcknowledgedCreateIsLost() async throws {
            let base = NSTemporaryDirectory() + "keystorm-ha-\(UUID().uuidString.prefix(8).lowercased())"
            let primary = try await Self.postgres("start", base + "-primary")
            do {
                let standby = try await Self.postgres("standby", base + "-primary", base + "-standby")
                _ = try await Self.postgres("synchronous", base + "-primary")
                let both = "\(try Self.server(of: primary)),\(try Self.server(of: standby))"
                let url =
                    primary.replacingOccurrences(of: String(try Self.server(of: primary)), with: both)
                    + "?connect_timeout=2&operation_timeout=3"
                try await LiveServer.with(arguments: ["--store", url]) { node in
                    let client = try node.client()
                    var material: [UniqueIdentifier: [UInt8]] = [:]
                    for _ in 0..<20 {
                        let uid = try await client.createKey()
                        let bytes = try #require(try await client.keyMaterial(uid).material)
                        material[uid] = bytes
                    }
                    _ = try await Self.postgres("kill", base + "-primary")
                    _ = try await Self.postgres("promote", base + "-standby")
                    // The node goes on by itself: Creates succeed again on the promoted standby.
                    let after = try await retrying(timeout: .seconds(90), "a Create after the promotion") {
                        () -> UniqueIdentifier? in
                        try? await client.createKey()
                    }
                    #expect(try await client.keyMaterial(after).material != nil)
                    for (uid, bytes) in material {
                        #expect(try await client.keyMaterial(uid).material == bytes, "\(uid) lost in the failover")
                    }
                    let status = try await Subprocess.run(
                        node.binary,
                        ["cluster", "status", "--data-dir", node.dataDirectory],
                        environment: LiveServer.environment()
                    )
                    #expect(status.output.contains("(primary,"), "\(status.output)")
                }
            } catch {
                _ = try? await Self.postgres("stop", base + "-standby")
                _ = try? await Self.postgres("stop", base + "-primary")
                throw error
            }
            _ = try? await Self.postgres("stop", base + "-standby")
            _ = try await Self.postgres("stop", base + "-primary")
        }

        /// PostgreSQL stopped and started again under a node: Gets fail with a clear KMIP error and
        /// `/readyz` says why while it is down; both recover by themselves, no restart of Keystorm.
        @Test func aPostgreSQLRestartFailsOperationsClearlyAndTheyRecoverByThemselves() async throws {
            // A server of this test's own: the shared one must not stop under other tests.
            let directory = NSTemporaryDirectory() + "keystorm-pg-\(UUID().uuidString.prefix(8).lowercased())"
            let server = try await Self.postgres("start", directory)
            do {
                let url = server + "?connect_timeout=2&operation_timeout=3"
                try await LiveServer.with(arguments: ["--store", url]) { node in
                    let client = try node.client()
                    let uid = try await client.createKey()
                    let material = try #require(try await client.keyMaterial(uid).material)
                    let admin = try await node.adminPort()

                    _ = try await Self.postgres("pause", directory)
                    let failed = try await client.keyMaterial(uid)
                    #expect(failed.material == nil)
                    expectFailure(failed.item, .generalFailure, "Get while PostgreSQL is down")
                    #expect(
                        failed.item.resultMessage?.contains("the key store is unavailable") == true,
                        "\(failed.item.resultMessage ?? "")"
                    )
                    let notReady = try await retrying(timeout: .seconds(30), "/readyz failing") {
                        () -> AdminHTTPProbe.Answer? in
                        let answer = try await AdminHTTPProbe.request(port: admin, "GET", "/readyz")
                        return answer.status == 503 ? answer : nil
                    }
                    #expect(notReady.body.contains("key store"), "\(notReady.body)")

                    _ = try await Self.postgres("resume", directory)
                    let recovered = try await retrying(timeout: .seconds(60), "Gets after PostgreSQL is back") {
                        () -> [UInt8]? in
                        try await client.keyMaterial(uid).material
                    }
                    #expect(recovered == material)
                    _ = try await retrying(timeout: .seconds(30), "/readyz ready again") { () -> Bool? in
                        try await AdminHTTPProbe.request(port: admin, "GET", "/readyz").status == 200 ? true : nil
                    }
                    // Writes too.
                    _ = try await client.createKey()
                }
            } catch {
                _ = try? await Self.postgres("stop", directory)
                throw error
            }
            _ = try await Self.postgres("stop", directory)
        }

        /// The upgrade path from one node to several: a backup of a running SQLite node, restored
        /// into PostgreSQL under a new node with the same master key.
        @Test func aBackupFromSQLiteRestoresIntoPostgreSQLAndEveryKeyReadsBackIdentical() async throws {
            try await ClusterDatabase.with { url in
                let backup = NSTemporaryDirectory() + "keystorm-backup-\(UUID().uuidString.prefix(8)).json"
                defer { try? FileManager.default.removeItem(atPath: backup) }
                var material: [UniqueIdentifier: [UInt8]] = [:]
                var destroyed: UniqueIdentifier?
                let masterKey = try await LiveServer.with { single in
                    let client = try single.client()
                    for _ in 0..<12 {
                        let uid = try await client.createKey()
                        let bytes = try #require(try await client.keyMaterial(uid).material)
                        material[uid] = bytes
                    }
                    let named = try #require(material.keys.first)
                    Self.expectSuccess(
                        try await client.call(
                            AddAttributeRequest(
                                uniqueIdentifier: named,
                                attribute: .custom("x-Name", .textString("vm-7"))
                            )
                        ),
                        "Add Attribute"
                    )
                    let gone = try await client.createKey()
                    Self.expectSuccess(try await client.call(DestroyRequest(uniqueIdentifier: gone)), "Destroy")
                    destroyed = gone
                    // Taken while the server runs.
                    let output = try await single.cli(["backup", "--out", backup])
                    #expect(output.contains("13 keys"), "\(output)")
                    // The file holds no key material in the clear.
                    let text = try String(contentsOfFile: backup, encoding: .utf8)
                    for bytes in material.values {
                        #expect(!text.contains(Data(bytes).base64EncodedString()))
                    }
                    return try Data(contentsOf: URL(fileURLWithPath: single.dataDirectory + "/master.key"))
                }
                try await Self.withRestoredNode(backup: backup, masterKey: masterKey, store: url) { node in
                    let client = try node.client()
                    for (uid, bytes) in material {
                        #expect(try await client.keyMaterial(uid).material == bytes, "\(uid)")
                    }
                    let named = try #require(material.keys.first)
                    #expect(try await Self.customAttribute(client, named, "x-Name") == "vm-7")
                    let gone = try #require(destroyed)
                    #expect(try await client.keyMaterial(gone).material == nil)
                }
            }
        }

        /// Runs `body` with a server on a new data directory that `keystorm restore --in backup` made
        /// (with `masterKey`, and on `store` when given); a second restore must be refused.
        static func withRestoredNode(
            backup: String,
            masterKey: Data,
            store url: String?,
            _ body: (LiveServer) async throws -> Void
        ) async throws {
            let storeArguments = url.map { ["--store", $0] } ?? []
            let node = try await LiveServer.start(arguments: storeArguments) { directory in
                try FileManager.default.createDirectory(
                    atPath: directory,
                    withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700]
                )
                _ = FileManager.default.createFile(
                    atPath: directory + "/master.key",
                    contents: masterKey,
                    attributes: [.posixPermissions: 0o600]
                )
                let environment = LiveServer.environment().merging(url.map { ["KEYSTORM_STORE": $0] } ?? [:]) { $1 }
                let arguments = ["restore", "--in", backup, "--data-dir", directory]
                let restored = try await Subprocess.run(
                    try LiveServer.locateBinary(),
                    arguments,
                    environment: environment
                )
                #expect(restored.succeeded, "\(restored.output)")
                let again = try await Subprocess.run(try LiveServer.locateBinary(), arguments, environment: environment)
                #expect(!again.succeeded && again.output.contains("restore with --force"), "\(again.output)")
            }
            do {
                try await body(node)
                await node.stop()
            } catch {
                await node.stop()
                throw error
            }
        }

        @Test func aNodeWithAnotherMasterKeyRefusesToStartAndSaysWhy() async throws {
            try await ClusterDatabase.with { url in
                try await LiveServer.with(arguments: ["--store", url]) { _ in
                    do {
                        let stray = try await LiveServer.start(arguments: ["--store", url])
                        await stray.stop()
                        Issue.record("a node with its own master key joined the cluster")
                    } catch let failure as LiveTestFailure {
                        #expect("\(failure)".contains("master key"), "\(failure)")
                    }
                }
            }
        }

        /// `keystorm ARGUMENTS --data-dir` of `node`, with the store setting in the environment.
        static func cli(_ node: LiveServer, store url: String, _ arguments: [String]) async throws -> String {
            let outcome = try await Subprocess.run(
                node.binary,
                arguments + ["--data-dir", node.dataDirectory],
                environment: LiveServer.environment().merging(["KEYSTORM_STORE": url]) { $1 }
            )
            guard outcome.succeeded else {
                throw LiveTestFailure("keystorm \(arguments.joined(separator: " ")): \(outcome.output)")
            }
            return outcome.output
        }

        static func customAttribute(
            _ client: KMIPTLSClient,
            _ uid: UniqueIdentifier,
            _ name: String
        ) async throws
            -> String?
        {
            let item = try await client.call(
                GetAttributesRequest(uniqueIdentifier: uid, attributeNames: [AttributeName(v1Name: name)])
            )
            guard case .getAttributes(let payload)? = item.payload,
                case .textString(let text)? = payload.attributes.first?.value
            else { return nil }
            return text
        }

        @Test func everyNodeServesEveryKeyAndSeesEveryChangeAtOnce() async throws {
            try await ClusterDatabase.with { url in
                try await Self.withTwoNodes(url) { a, b in
                    // The data directories hold no store and no root keys: both are in PostgreSQL.
                    for node in [a, b] {
                        let files = try FileManager.default.contentsOfDirectory(atPath: node.dataDirectory)
                        #expect(!files.contains("keystorm.sqlite") && !files.contains("rootkeys.sealed"), "\(files)")
                    }
                    let onA = try a.client()
                    // A's test client, through B's listener (B's server certificate).
                    let onB = try b.client(a.testClient)

                    let uid = try await onA.createKey()
                    let fromA = try #require(try await onA.keyMaterial(uid).material)
                    // Committed before A answered: B serves it at once, with the same material.
                    #expect(try await onB.keyMaterial(uid).material == fromA)

                    let added = try await onA.call(
                        AddAttributeRequest(uniqueIdentifier: uid, attribute: .custom("x-Name", .textString("vm-01")))
                    )
                    Self.expectSuccess(added, "Add Attribute on A")
                    #expect(try await Self.customAttribute(onB, uid, "x-Name") == "vm-01")

                    Self.expectSuccess(try await onB.call(ActivateRequest(uniqueIdentifier: uid)), "Activate on B")
                    #expect(try await onA.state(of: uid) == .active)

                    // Destroy on B: the very next Get on A fails (A read the key before: no stale copy).
                    let revoked = try await onB.call(
                        RevokeRequest(
                            uniqueIdentifier: uid,
                            revocationReason: RevocationReason(code: .cessationOfOperation)
                        )
                    )
                    Self.expectSuccess(revoked, "Revoke on B")
                    Self.expectSuccess(try await onB.call(DestroyRequest(uniqueIdentifier: uid)), "Destroy on B")
                    let afterDestroy = try await onA.keyMaterial(uid)
                    #expect(afterDestroy.material == nil, "A served a key B destroyed")
                }
            }
        }

        @Test func clusterStatusListsBothNodesAndTheStore() async throws {
            try await ClusterDatabase.with { url in
                try await Self.withTwoNodes(url) { a, b in
                    // Through A's admin API, and read from the store by the CLI alone.
                    for environment in [[:], ["KEYSTORM_ADMIN_API": "off"]] {
                        let output = try await retrying(timeout: .seconds(30), "both nodes' heartbeats") {
                            () -> String? in
                            let outcome = try await Subprocess.run(
                                a.binary,
                                ["cluster", "status", "--data-dir", a.dataDirectory],
                                environment: LiveServer.environment().merging(["KEYSTORM_STORE": url]) { $1 }
                                    .merging(environment) { $1 }
                            )
                            guard outcome.succeeded else { throw LiveTestFailure(outcome.output) }
                            let both =
                                outcome.output.contains("127.0.0.1:\(a.port)")
                                && outcome.output.contains("127.0.0.1:\(b.port)")
                            return both ? outcome.output : nil
                        }
                        #expect(output.contains("store:    postgresql"), "\(output)")
                        #expect(output.contains("(primary, PostgreSQL"), "\(output)")
                        #expect(!output.contains("silent"), "\(output)")
                    }
                }
            }
        }

        @Test func trustRulesAndRootKeyDeletionReachTheOtherNode() async throws {
            try await ClusterDatabase.with { url in
                try await Self.withTwoNodes(url) { a, b in
                    let onA = try a.client()
                    let uid = try await onA.createKey()
                    // A client issued through node A is admitted by node B within its refresh (1 s).
                    let issued = try await Self.cli(
                        a,
                        store: url,
                        ["clients", "issue", "--tenant", "default", "--name", "second-vcenter"]
                    )
                    let certificate = try #require(Self.field(issued, after: "certificate: "))
                    let key = try #require(Self.field(issued, after: "private key: "))
                    let second = try b.client(.init(certificate: certificate, key: key))
                    let material = try await retrying(timeout: .seconds(10), "the new client admitted by B") {
                        () -> [UInt8]? in
                        try? await second.keyMaterial(uid).material
                    }
                    #expect(try await onA.keyMaterial(uid).material == material)

                    // Root key deleted through A: B refuses every Get of the tenant, its cached key
                    // included, within its poll interval.
                    _ = try await Self.cli(a, store: url, ["root-key", "delete", "--tenant", "default", "--yes"])
                    let refused = try await retrying(timeout: .seconds(60), "B refusing the shredded key") {
                        () -> ResponseBatchItem? in
                        let got = try await second.keyMaterial(uid)
                        return got.material == nil ? got.item : nil
                    }
                    expectFailure(refused, .permissionDenied, "Get on B after the shred on A")
                    let created = try await b.client(a.testClient).call(aes256Create(name: nil))
                    #expect(created.resultStatus != .success, "B created a key under a deleted root key")
                }
            }
        }

        static func expectSuccess(
            _ item: ResponseBatchItem,
            _ what: String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            #expect(
                item.resultStatus == .success,
                "\(what): \(item.resultReason?.name ?? "no reason"): \(item.resultMessage ?? "")",
                sourceLocation: sourceLocation
            )
        }

        /// The text after `prefix` on the first line that has it.
        static func field(_ output: String, after prefix: String) -> String? {
            for line in output.split(separator: "\n") {
                if let range = line.range(of: prefix) {
                    return String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
    }
}

extension LiveServerTests {
    /// `keystorm backup` and `keystorm restore` on one node's SQLite store.
    @Suite("Backup and restore, live")
    struct BackupLiveTests {
        @Test func aDamagedBackupIsRefusedBeforeAnythingIsWritten() async throws {
            try await LiveServer.with { single in
                let uid = try await single.client().createKey()
                let material = try await single.client().keyMaterial(uid).material
                let backup = single.root + "/backup.json"
                _ = try await single.cli(["backup", "--out", backup])
                // Never replaced.
                let twice = try await Subprocess.run(
                    single.binary,
                    ["backup", "--out", backup, "--data-dir", single.dataDirectory],
                    environment: LiveServer.environment()
                )
                #expect(!twice.succeeded && twice.output.contains("exists"), "\(twice.output)")
                var bytes = try Data(contentsOf: URL(fileURLWithPath: backup))
                bytes[bytes.count / 2] ^= 0x01
                let damaged = single.root + "/damaged.json"
                try bytes.write(to: URL(fileURLWithPath: damaged))
                let empty = single.root + "/empty-data"
                let refused = try await Subprocess.run(
                    single.binary,
                    ["restore", "--in", damaged, "--data-dir", empty],
                    environment: LiveServer.environment()
                )
                #expect(!refused.succeeded && refused.output.contains("checksum"), "\(refused.output)")
                #expect(!FileManager.default.fileExists(atPath: empty + "/keystorm.sqlite"))

                // The intact backup restores into a new SQLite data directory (root keys included)
                // that serves the key.
                let masterKey = try Data(contentsOf: URL(fileURLWithPath: single.dataDirectory + "/master.key"))
                try await ClusterLiveTests.withRestoredNode(backup: backup, masterKey: masterKey, store: nil) { copy in
                    let restored = try await copy.client().keyMaterial(uid).material
                    #expect(restored == material)
                }
            }
        }
    }
}
