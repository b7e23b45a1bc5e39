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
import PostgresNIO

extension PostgresKeyStore {
    /// Throws ``KeyStoreError/unavailable`` unless the database answers and takes writes (not a
    /// standby in recovery, not read-only).
    public func requireWritable() async throws {
        let readOnly = try await self.rows("SELECT current_setting('transaction_read_only')") {
            try $0.decode(String.self)
        }
        if readOnly.first != "off" {
            throw KeyStoreError(
                .unavailable,
                reason: "PostgreSQL at \(self.location) takes no writes (a read-only standby?)"
            )
        }
    }

    public func sharedValues(prefix: String) async throws -> [String: [UInt8]] {
        let pairs = try await self.rows(
            "SELECT name, value FROM shared_values WHERE left(name, length(\(prefix))) = \(prefix)"
        ) { row -> (String, [UInt8]) in
            let (name, value) = try row.decode((String, ByteBuffer).self)
            return (name, Array(value.readableBytesView))
        }
        return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }

    /// The server's role (primary or standby), its version, and the standbys that replicate it
    /// (`pg_stat_replication`: seen only by a superuser or a member of `pg_monitor`; otherwise
    /// the list is empty).
    public func status() async throws -> StoreStatus {
        let (version, recovering) =
            try await self.rows(
                "SELECT current_setting('server_version'), pg_is_in_recovery()"
            ) { try $0.decode((String, Bool).self) }.first ?? ("", false)
        let standbys = try await self.rows(
            """
            SELECT coalesce(application_name, ''), host(client_addr), coalesce(state, ''), coalesce(sync_state, ''),
                extract(epoch FROM replay_lag)::float8
            FROM pg_stat_replication ORDER BY application_name
            """
        ) { row in
            let (name, address, state, sync, lag) = try row.decode((String, String?, String, String, Double?).self)
            return StoreStatus.Standby(
                name: name,
                address: address,
                state: state,
                syncState: sync,
                replayLagSeconds: lag
            )
        }
        return StoreStatus(
            kind: "postgresql",
            location: self.location,
            role: recovering ? "standby" : "primary",
            version: "PostgreSQL \(version)",
            standbys: standbys
        )
    }

    public func sharedValue(named name: String) async throws -> [UInt8]? {
        try await self.rows("SELECT value FROM shared_values WHERE name = \(name)") {
            Array(try $0.decode(ByteBuffer.self).readableBytesView)
        }.first
    }

    /// Replaces the value `name` in one transaction under a transaction-scoped advisory lock on
    /// the name, so that nodes changing it at once take turns, each starting from the value the
    /// previous one committed (a missing row cannot be locked with `FOR UPDATE`).
    public func updateSharedValue<Result: Sendable>(
        named name: String,
        _ change: @escaping @Sendable ([UInt8]?) throws -> (value: [UInt8], result: Result)
    ) async throws -> Result {
        try await self.transaction { [logger] connection in
            try await connection.query(
                "SELECT pg_advisory_xact_lock(hashtextextended('keystorm shared value ' || \(name), 0))",
                logger: logger
            )
            var current: [UInt8]?
            for try await value in try await connection.query(
                "SELECT value FROM shared_values WHERE name = \(name)",
                logger: logger
            ).decode(ByteBuffer.self) {
                current = Array(value.readableBytesView)
            }
            let (value, result) = try change(current)
            try await connection.query(
                """
                INSERT INTO shared_values (name, value, updated_at) VALUES (\(name), \(ByteBuffer(bytes: value)), now())
                ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                """,
                logger: logger
            )
            return result
        }
    }
}
#endif
