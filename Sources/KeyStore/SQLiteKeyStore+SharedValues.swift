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
import GRDB

extension SQLiteKeyStore {
    public func sharedValue(named name: String) async throws -> [UInt8]? {
        try await self.read { db in
            try Row.fetchOne(db, sql: "SELECT value FROM shared_values WHERE name = ?", arguments: [name])
                .map { try ColumnReader(row: $0, table: "shared_values").bytes("value") }
        }
    }

    public func sharedValues(prefix: String) async throws -> [String: [UInt8]] {
        try await self.read { db in
            var values: [String: [UInt8]] = [:]
            for row in try Row.fetchAll(
                db,
                sql: "SELECT name, value FROM shared_values WHERE substr(name, 1, length(?)) = ?",
                arguments: [prefix, prefix]
            ) {
                let reader = ColumnReader(row: row, table: "shared_values")
                values[try reader.string("name")] = try reader.bytes("value")
            }
            return values
        }
    }

    public func status() async throws -> StoreStatus {
        let version = try await self.read { db in try String.fetchOne(db, sql: "SELECT sqlite_version()") ?? "" }
        return StoreStatus(kind: "sqlite", location: self.writer.path, role: "file", version: "SQLite \(version)")
    }

    /// Replaces the value `name` in one write transaction (SQLite serializes writers, which is
    /// the lock).
    public func updateSharedValue<Result: Sendable>(
        named name: String,
        _ change: @escaping @Sendable ([UInt8]?) throws -> (value: [UInt8], result: Result)
    ) async throws -> Result {
        try await self.write { db in
            let current = try Row.fetchOne(
                db,
                sql: "SELECT value FROM shared_values WHERE name = ?",
                arguments: [name]
            ).map { try ColumnReader(row: $0, table: "shared_values").bytes("value") }
            let (value, result) = try change(current)
            try db.execute(
                sql: """
                    INSERT INTO shared_values (name, value, updated_at) VALUES (?, \(Self.blobParameter), ?)
                    ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                    """,
                arguments: [name, Data(value), Int64(Date().timeIntervalSince1970)]
            )
            return result
        }
    }
}
