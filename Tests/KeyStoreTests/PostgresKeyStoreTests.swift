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

#if PostgreSQL
import Foundation
import KeyStore
import PostgresNIO
import Testing

@Suite("PostgreSQL store URLs")
struct PostgresStoreURLTests {
    @Test func aFullURLParses() throws {
        let configuration = try PostgresStoreConfiguration(
            url: "postgresql://key%40storm:p%3Ass@db.example:6543/keys?sslmode=verify-full&sslrootcert=/etc/ca.pem"
                + "&connect_timeout=3&max_connections=40&operation_timeout=20"
        )
        #expect(configuration.host == "db.example")
        #expect(configuration.port == 6543)
        #expect(configuration.username == "key@storm")
        #expect(configuration.password == "p:ss")
        #expect(configuration.database == "keys")
        #expect(configuration.tlsMode == .verifyFull)
        #expect(configuration.tlsRootCertificates == "/etc/ca.pem")
        #expect(configuration.connectTimeout == .seconds(3))
        #expect(configuration.maximumConnections == 40)
        #expect(configuration.operationTimeout == .seconds(20))
        #expect(configuration.redactedURL == "postgres://key@storm@db.example:6543/keys")
    }

    @Test func severalHostsAreAPrimaryAndItsStandbys() throws {
        let configuration = try PostgresStoreConfiguration(
            url: "postgres://keystorm@db-a:5432,db-b,[fd00::3]:6000/keys"
        )
        #expect(configuration.hosts.map(\.description) == ["db-a:5432", "db-b:5432", "[fd00::3]:6000"])
        #expect(configuration.redactedURL == "postgres://keystorm@db-a:5432,db-b:5432,[fd00::3]:6000/keys")
    }

    @Test func defaultsFollowLibpq() throws {
        let configuration = try PostgresStoreConfiguration(url: "postgres://keystorm@[::1]/keystorm")
        #expect(configuration.host == "::1")
        #expect(configuration.port == 5432)
        #expect(configuration.password == nil)
        #expect(configuration.tlsMode == .prefer)
        #expect(configuration.redactedURL == "postgres://keystorm@[::1]:5432/keystorm")
    }

    @Test(arguments: [
        ("mysql://u@h/d", "postgres://"),
        ("postgres://u@h", "no database"),
        ("postgres://h/d", "no user"),
        ("postgres://u@a,,b/d", "no host"),
        ("postgres://u@h:0/d", "port"),
        ("postgres://u@h:x/d", "port"),
        ("postgres://u@h/d?sslmode=sometimes", "sslmode=sometimes"),
        ("postgres://u@h/d?pool=3", "unknown parameter pool"),
        ("postgres://u:%zz@h/d", "percent-escape"),
        ("postgres://u@h/d?max_connections=0", "max_connections"),
    ])
    func badURLsSayWhatIsWrong(url: String, expected: String) {
        do {
            _ = try PostgresStoreConfiguration(url: url)
            Issue.record("\(url) parsed")
        } catch let error as KeyStoreError {
            #expect(error.reason.contains("invalid PostgreSQL URL"))
            #expect(error.reason.contains(expected), "\(error.reason)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func errorsNeverRepeatThePassword() {
        do {
            _ = try PostgresStoreConfiguration(url: "postgres://u:hunter2@h/d?sslmode=hunter2x")
        } catch let error as KeyStoreError {
            #expect(error.reason.contains("sslmode") && !error.reason.contains("hunter2@"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

@Suite(
    "PostgreSQL store against a live server",
    .enabled(
        if: StoreBackend.postgresURL != nil,
        "skipped: KEYSTORM_TEST_POSTGRES_URL is not set (bash .ci/run starts a PostgreSQL server for the tests)"
    )
)
struct PostgresKeyStoreLiveTests {
    private var server: PostgresStoreConfiguration {
        get throws { try PostgresStoreConfiguration(url: StoreBackend.postgresURL ?? "") }
    }

    @Test func aServerThatIsNotThereFailsQuicklyWithItsAddress() async throws {
        // A port nothing listens on: bind one and close it.
        var configuration = try self.server
        configuration.port = try Self.closedPort()
        configuration.connectTimeout = .seconds(1)
        configuration.operationTimeout = .seconds(3)
        let started = ContinuousClock.now
        await Self.expectStorageError(.unavailable, containing: ["127.0.0.1:\(configuration.port)"]) {
            _ = try await PostgresKeyStore.connect(configuration)
        }
        // Bounded by the deadline (plus slack for a loaded machine), not a hang.
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func aWrongPasswordIsRefusedWithoutShowingIt() async throws {
        var configuration = try self.server
        configuration.password = "not-the-password-\(UUID().uuidString)"
        let password = configuration.password ?? ""
        do {
            _ = try await PostgresKeyStore.connect(configuration)
            Issue.record("a wrong password was accepted")
        } catch let error as KeyStoreError {
            #expect(error.code == .storage)
            #expect(error.reason.contains("authentication failed"), "\(error.reason)")
            #expect(!"\(error)".contains(password))
        }
    }

    @Test func withSeveralHostsEachOneSaysWhyItIsNotThePrimary() async throws {
        var configuration = try self.server
        configuration.password = "not-the-password-\(UUID().uuidString)"
        configuration.otherHosts = [.init(host: "127.0.0.1", port: try Self.closedPort())]
        configuration.connectTimeout = .seconds(2)
        await Self.expectStorageError(
            .unavailable,
            containing: ["no PostgreSQL server takes writes", "authentication failed", "unavailable"]
        ) {
            _ = try await PostgresKeyStore.connect(configuration)
        }
    }

    @Test func nodesThatStartTogetherMigrateOnceAndSeeEachOthersWrites() async throws {
        try await withTemporaryPostgresStore { first in
            var server = try self.server
            server.database = try #require(first.location.split(separator: "/").last.map(String.init))
            let configuration = server
            // Eight more nodes start at once on the same database.
            let nodes = try await withThrowingTaskGroup(of: PostgresKeyStore.self) { group in
                for _ in 0..<8 { group.addTask { try await PostgresKeyStore.connect(configuration) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            try await first.createTenant(Sample.tenant("a"))
            try await first.insert(Sample.object(tenantID: "a", uid: "k1", names: ["disk"]))
            for node in nodes {
                // Committed before insert returned: every node reads it at once.
                #expect(try await node.object(tenantID: "a", uniqueIdentifier: "k1")?.names == ["disk"])
            }
            try await nodes[0].update(Sample.object(tenantID: "a", uid: "k1", state: 3), expectedRevision: 0)
            #expect(try await first.object(tenantID: "a", uniqueIdentifier: "k1")?.state == 3)
            await expectKeyStoreError(.conflict) {
                try await nodes[1].update(Sample.object(tenantID: "a", uid: "k1", state: 4), expectedRevision: 0)
            }
            for node in nodes { await node.close() }
        }
    }

    @Test func aDatabaseMigratedByANewerVersionIsRefused() async throws {
        try await withTemporaryPostgresStore { store in
            var configuration = try self.server
            configuration.database = try #require(store.location.split(separator: "/").last.map(String.init))
            try await PostgresAdmin.execute(
                "INSERT INTO keystorm_schema_migrations (identifier) VALUES ('v999-from-the-future')",
                on: configuration
            )
            await Self.expectStorageError(containing: ["newer"]) {
                _ = try await PostgresKeyStore.connect(configuration)
            }
        }
    }

    @Test func aClosedStoreFailsCallsInsteadOfHanging() async throws {
        try await withTemporaryPostgresStore { store in
            await store.close()
            await Self.expectStorageError(.unavailable, containing: ["PostgreSQL"]) { _ = try await store.tenants() }
        }
    }

    private static func expectStorageError(
        _ code: KeyStoreError.Code = .storage,
        containing fragments: [String],
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async {
        do {
            try await body()
            Issue.record("expected a storage error", sourceLocation: sourceLocation)
        } catch let error as KeyStoreError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            for fragment in fragments {
                #expect(error.reason.contains(fragment), "\(error.reason)", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("expected a storage error, got \(error)", sourceLocation: sourceLocation)
        }
    }

    private static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(bound == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
#endif
