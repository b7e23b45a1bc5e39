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
