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
import Logging
import PostgresNIO
import Synchronization

extension PostgresKeyStore {
    /// The schema migrations, in the order they apply. A migration, once released, never changes:
    /// later schema changes are new migrations appended here.
    public static var migrationIdentifiers: [String] { Self.migrations.map(\.identifier) }

    /// The advisory lock every node takes while it migrates (`KSTM` in ASCII).
    static let migrationLock: Int64 = 0x4B53_544D

    static let migrations: [(identifier: String, statements: [String])] = [
        ("v1", PostgresKeyStore.v1),
        ("v2-shared-values", PostgresKeyStore.v2),
    ]

    /// Values every node reads alike (the Local provider's sealed root keys).
    private static let v2 = [
        """
        CREATE TABLE shared_values (
            name TEXT NOT NULL PRIMARY KEY,
            value BYTEA NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL
        )
        """
    ]

    /// Tenants, client rules and objects.
    ///
    /// An object's Name values are an array column with a GIN index, so a Locate by name is one
    /// index lookup and a Get reads one row. A unique identifier is unique within its tenant.
    private static let v1 = [
        """
        CREATE TABLE tenants (
            id TEXT NOT NULL PRIMARY KEY,
            display_name TEXT NOT NULL,
            root_key_provider TEXT NOT NULL,
            root_key_id TEXT NOT NULL,
            root_key_version BIGINT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE client_rules (
            id TEXT NOT NULL PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            certificate_pem TEXT NOT NULL,
            label TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX client_rules_by_tenant ON client_rules (tenant_id, id)",
        "CREATE INDEX client_rules_by_fingerprint ON client_rules (fingerprint)",
        """
        CREATE TABLE objects (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants(id),
            unique_identifier TEXT NOT NULL,
            object_type BIGINT NOT NULL,
            state BIGINT NOT NULL,
            names TEXT[] NOT NULL,
            attributes BYTEA NOT NULL,
            wrapped_key BYTEA,
            wrapped_root_key_id TEXT,
            wrapped_root_key_version BIGINT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            revision BIGINT NOT NULL,
            CHECK ((wrapped_key IS NULL) = (wrapped_root_key_id IS NULL)),
            CHECK ((wrapped_key IS NULL) = (wrapped_root_key_version IS NULL))
        )
        """,
        "CREATE UNIQUE INDEX objects_by_uid ON objects (tenant_id, unique_identifier)",
        "CREATE INDEX objects_by_type_state ON objects (tenant_id, object_type, state)",
        "CREATE INDEX objects_by_creation ON objects (tenant_id, created_at, id)",
        """
        CREATE INDEX objects_by_wrap_version ON objects (tenant_id, wrapped_root_key_version)
            WHERE wrapped_key IS NOT NULL
        """,
        "CREATE INDEX objects_by_name ON objects USING GIN (names)",
    ]

    /// Creates the migrations table if needed and applies the migrations this database lacks,
    /// in one transaction under ``migrationLock``: nodes that start together migrate once, and a
    /// migration that fails leaves nothing behind.
    ///
    /// It runs on a connection of its own, outside the pool, so that an unreachable server or
    /// refused credentials fail at once with PostgreSQL's reason instead of waiting for the pool.
    func migrate() async throws {
        let known = Self.migrationIdentifiers
        let server = self.configuration.hosts[self.primary.withLock { $0.index }]
        let configuration = try self.configuration.connectionConfiguration(server)
        try await self.call(.none, file: #fileID, line: #line) { [logger] in
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            do {
                try await Self.migrate(connection, known: known, logger: logger)
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
        }
    }

    private static func migrate(_ connection: PostgresConnection, known: [String], logger: Logger) async throws {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS keystorm_schema_migrations (
                    identifier TEXT NOT NULL PRIMARY KEY,
                    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                )
                """,
                logger: logger
            )
            var applied: Set<String> = []
            for try await identifier in try await connection.query(
                "SELECT identifier FROM keystorm_schema_migrations",
                logger: logger
            ).decode(String.self) {
                applied.insert(identifier)
            }
            if !applied.isSubset(of: Set(known)) {
                throw KeyStoreError(
                    .storage,
                    reason:
                        "the database has migrations this version of Keystorm does not know (written by a newer one)"
                )
            }
            for migration in Self.migrations where !applied.contains(migration.identifier) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO keystorm_schema_migrations (identifier) VALUES (\(migration.identifier))",
                    logger: logger
                )
            }
        }
    }
}
#endif
