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
    /// Everything, from one read transaction (WAL: servers go on writing meanwhile).
    public func snapshot() async throws -> StoreSnapshot {
        try await self.read { db in
            let tenants = try Row.fetchAll(db, sql: "SELECT \(Tenant.columns) FROM tenants ORDER BY id")
                .map(Tenant.init(row:))
            let clients = try Row.fetchAll(db, sql: "SELECT \(ClientRule.columns) FROM client_rules ORDER BY id")
                .map(ClientRule.init(row:))
            let rows = try Row.fetchAll(db, sql: "SELECT \(StoredObject.columns) FROM objects ORDER BY id")
            let objects = try Self.objects(from: rows, db)
            var shared: [String: [UInt8]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, value FROM shared_values") {
                let reader = ColumnReader(row: row, table: "shared_values")
                shared[try reader.string("name")] = try reader.bytes("value")
            }
            return StoreSnapshot(tenants: tenants, clients: clients, objects: objects, sharedValues: shared)
        }
    }

    /// Writes `snapshot` in one write transaction.
    public func restore(_ snapshot: StoreSnapshot, replacing: Bool) async throws {
        try snapshot.validate()
        try await self.write { db in
            if replacing {
                for table in ["object_names", "objects", "client_rules", "tenants", "shared_values"] {
                    try db.execute(sql: "DELETE FROM \(table)")
                }
            } else {
                let held = try Int.fetchOne(
                    db,
                    sql: """
                        SELECT (SELECT count(*) FROM tenants) + (SELECT count(*) FROM objects)
                            + (SELECT count(*) FROM client_rules) + (SELECT count(*) FROM shared_values)
                        """
                )
                if held ?? 0 > 0 {
                    throw KeyStoreError(.alreadyExists, reason: "the store is not empty")
                }
            }
            for tenant in snapshot.tenants { try Self.insert(tenant, db) }
            for client in snapshot.clients { try Self.insert(client, db) }
            for object in snapshot.objects { try Self.insert(object, db) }
            for (name, value) in snapshot.sharedValues.sorted(by: { $0.key < $1.key }) {
                try db.execute(
                    sql: "INSERT INTO shared_values (name, value, updated_at) VALUES (?, \(Self.blobParameter), ?)",
                    arguments: [name, Data(value), Int64(Date().timeIntervalSince1970)]
                )
            }
        }
    }
}
