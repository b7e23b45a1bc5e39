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
    )
        async throws
    {
        for tenant in snapshot.tenants {
            try await connection.query(
                """
                INSERT INTO tenants (id, display_name, root_key_provider, root_key_id, root_key_version, created_at)
                VALUES (\(tenant.id), \(tenant.displayName), \(tenant.rootKey.provider), \(tenant.rootKey.keyID),
                    \(Int64(tenant.rootKey.version)), \(tenant.createdAt))
                """,
                logger: logger
            )
        }
        for client in snapshot.clients {
            try await connection.query(
                """
                INSERT INTO client_rules (id, tenant_id, kind, fingerprint, certificate_pem, label, created_at)
                VALUES (\(client.id), \(client.tenantID), \(client.kind.rawValue), \(client.fingerprint),
                    \(client.certificatePEM), \(client.label), \(client.createdAt))
                """,
                logger: logger
            )
        }
        for object in snapshot.objects {
            let wrapped = PostgresWrappedColumns(object.wrappedKey)
            try await connection.query(
                """
                INSERT INTO objects (tenant_id, unique_identifier, object_type, state, names, attributes, wrapped_key,
                    wrapped_root_key_id, wrapped_root_key_version, created_at, updated_at, revision)
                VALUES (\(object.tenantID), \(object.uniqueIdentifier), \(Int64(object.objectType)),
                    \(Int64(object.state)), \(object.names), \(ByteBuffer(bytes: object.attributes)),
                    \(wrapped.ciphertext), \(wrapped.rootKeyID), \(wrapped.version),
                    \(object.createdAt), \(object.updatedAt), \(object.revision))
                """,
                logger: logger
            )
        }
        for (name, value) in snapshot.sharedValues.sorted(by: { $0.key < $1.key }) {
            try await connection.query(
                "INSERT INTO shared_values (name, value, updated_at) VALUES (\(name), \(ByteBuffer(bytes: value)), now())",
                logger: logger
            )
        }
    }
}
#endif
