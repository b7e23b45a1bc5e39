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
import KeyStore
import Testing

#if PostgreSQL
import PostgresNIO
#endif

/// The stores the shared ``KeyStore`` suites run against.
///
/// PostgreSQL runs when `KEYSTORM_TEST_POSTGRES_URL` names a server the tests may create
/// databases on (`.ci/run` starts one with `.ci/postgres`); each test gets a database of its own,
/// dropped afterwards. Without it, ``PostgresAvailabilityTests`` says the PostgreSQL runs were
/// skipped, and fails when `KEYSTORM_REQUIRE_POSTGRES=1` (as in CI).
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case sqliteWithoutGroupCommit
    case postgres

    var testDescription: String { self.rawValue }

    static var postgresURL: String? {
        #if PostgreSQL
        ProcessInfo.processInfo.environment["KEYSTORM_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
        #else
        nil
        #endif
    }

    /// SQLite and, when configured, PostgreSQL.
    static var available: [StoreBackend] { Self.postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// Also SQLite without group commit, for the tests of concurrent writes.
    static var availableWithWriteModes: [StoreBackend] { Self.available + [.sqliteWithoutGroupCommit] }
}

/// Runs `body` with an empty, migrated store of `backend`, and removes it afterwards.
func withStore<T>(_ backend: StoreBackend, _ body: (any KeyStore) async throws -> T) async throws -> T {
    switch backend {
    case .sqlite, .sqliteWithoutGroupCommit:
        let configuration = SQLiteKeyStore.Configuration(groupCommit: backend == .sqlite)
        return try await withTemporaryStore(configuration: configuration) { store, _ in try await body(store) }
    case .postgres:
        #if PostgreSQL
        return try await withTemporaryPostgresStore(body)
        #else
        throw KeyStoreError(.storage, reason: "this build has no PostgreSQL store")
        #endif
    }
}

#if PostgreSQL
/// Creates a database of its own on the test server, runs `body` with a store on it, and drops
/// the database.
func withTemporaryPostgresStore<T>(_ body: (PostgresKeyStore) async throws -> T) async throws -> T {
    guard let url = StoreBackend.postgresURL else {
        throw KeyStoreError(.storage, reason: "KEYSTORM_TEST_POSTGRES_URL is not set")
    }
    let server = try PostgresStoreConfiguration(url: url)
    let name = "keystorm_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    try await PostgresAdmin.execute("CREATE DATABASE \(name)", on: server)
    do {
        var configuration = server
        configuration.database = name
        let store = try await PostgresKeyStore.connect(configuration)
        let result: T
        do {
            result = try await body(store)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
        try await PostgresAdmin.execute("DROP DATABASE \(name) WITH (FORCE)", on: server)
        return result
    } catch {
        try? await PostgresAdmin.execute("DROP DATABASE \(name) WITH (FORCE)", on: server)
        throw error
    }
}

/// Statements on the test server's administration database, over a connection of their own.
enum PostgresAdmin {
    static func execute(_ sql: String, on server: PostgresStoreConfiguration) async throws {
        let logger = Logger(label: "keystorm.tests.postgres")
        let connection = try await PostgresConnection.connect(
            configuration: PostgresConnection.Configuration(
                host: server.host,
                port: server.port,
                username: server.username,
                password: server.password,
                database: server.database,
                tls: .disable
            ),
            id: 1,
            logger: logger
        )
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}
#endif

@Suite("PostgreSQL store availability")
struct PostgresAvailabilityTests {
    /// Says plainly when the PostgreSQL half of the KeyStore suites did not run.
    @Test(
        "PostgreSQL store suites ran (KEYSTORM_TEST_POSTGRES_URL set)",
        .enabled(
            if: StoreBackend.postgresURL != nil
                || ProcessInfo.processInfo.environment["KEYSTORM_REQUIRE_POSTGRES"] == "1",
            "skipped: KEYSTORM_TEST_POSTGRES_URL is not set, so the KeyStore suites ran on SQLite only"
        )
    )
    func postgresIsConfigured() async throws {
        let url = try #require(
            StoreBackend.postgresURL,
            "KEYSTORM_REQUIRE_POSTGRES=1 but KEYSTORM_TEST_POSTGRES_URL is not set (or this build lacks PostgreSQL)"
        )
        #if PostgreSQL
        // The server answers and the store migrates a fresh database.
        _ = try PostgresStoreConfiguration(url: url)
        let tenants = try await withTemporaryPostgresStore { store in try await store.tenants() }
        #expect(tenants.isEmpty)
        #else
        Issue.record("KEYSTORM_TEST_POSTGRES_URL is \(url.isEmpty ? "empty" : "set") but this build lacks PostgreSQL")
        #endif
    }
}
