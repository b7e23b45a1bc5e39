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

extension PostgresKeyStore {
    /// Everything, from one repeatable-read transaction (one snapshot while nodes write).
    public func snapshot() async throws -> StoreSnapshot {
        try await self.transaction(readOnlySnapshot: true) { [logger] connection in
            var snapshot = StoreSnapshot()
            let tenants = "SELECT \(Tenant.postgresColumns) FROM tenants ORDER BY id COLLATE \"C\""
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: tenants), logger: logger) {
                snapshot.tenants.append(try Tenant(postgresRow: row))
            }
            let clients = "SELECT \(ClientRule.postgresColumns) FROM client_rules ORDER BY id COLLATE \"C\""
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: clients), logger: logger) {
                snapshot.clients.append(try ClientRule(postgresRow: row))
            }
            let objects = "SELECT \(StoredObject.postgresColumns) FROM objects ORDER BY id"
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: objects), logger: logger) {
                snapshot.objects.append(try StoredObject(postgresRow: row))
            }
            for try await (name, value) in try await connection.query(
                "SELECT name, value FROM shared_values",
                logger: logger
            ).decode((String, ByteBuffer).self) {
                snapshot.sharedValues[name] = Array(value.readableBytesView)
            }
            return snapshot
        }
    }

    /// Writes `snapshot` in one transaction.
    public func restore(_ snapshot: StoreSnapshot, replacing: Bool) async throws {
        try snapshot.validate()
        try await self.transaction { [logger] connection in
            if replacing {
                try await connection.query("DELETE FROM objects", logger: logger)
                try await connection.query("DELETE FROM client_rules", logger: logger)
                try await connection.query("DELETE FROM tenants", logger: logger)
                try await connection.query("DELETE FROM shared_values", logger: logger)
            } else {
                let held = try await connection.query(
                    """
                    SELECT (SELECT count(*) FROM tenants) + (SELECT count(*) FROM objects)
                        + (SELECT count(*) FROM client_rules) + (SELECT count(*) FROM shared_values)
                    """,
                    logger: logger
                ).decode(Int64.self).reduce(0, +)
                if held > 0 { throw KeyStoreError(.alreadyExists, reason: "the store is not empty") }
            }
            try await Self.insert(snapshot, connection, logger)
        }
    }

    private static func insert(
        _ snapshot: StoreSnapshot,
        _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws {
        for tenant in snapshot.tenants { try await connection.query(Self.insertQuery(tenant), logger: logger) }
        for client in snapshot.clients { try await connection.query(Self.insertQuery(client), logger: logger) }
        for object in snapshot.objects { try await connection.query(Self.insertQuery(object), logger: logger) }
        for (name, value) in snapshot.sharedValues.sorted(by: { $0.key < $1.key }) {
            try await connection.query(
                "INSERT INTO shared_values (name, value, updated_at) VALUES (\(name), \(ByteBuffer(bytes: value)), now())",
                logger: logger
            )
        }
    }
}
#endif
