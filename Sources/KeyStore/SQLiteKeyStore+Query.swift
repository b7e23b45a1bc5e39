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

import GRDB

extension SQLiteKeyStore {
    /// The objects of a tenant that match `query`, ordered by creation time (then insertion
    /// order), after skipping `query.offset` and returning at most `query.limit`.
    ///
    /// The count and the page come from one read transaction, so ``ObjectPage/totalMatches`` is
    /// consistent with the page. A negative offset counts as zero and a negative limit as zero; an
    /// empty `states` set matches nothing.
    public func objects(tenantID: String, matching query: ObjectQuery) async throws -> ObjectPage {
        if let states = query.states, states.isEmpty {
            return ObjectPage(objects: [], totalMatches: 0)
        }
        let filter = Self.filter(tenantID: tenantID, query: query)
        let offset = max(0, query.offset)
        let limit = query.limit.map { max(0, $0) } ?? -1
        return try await self.read { db in
            let total =
                try Int.fetchOne(
                    db,
                    sql: "SELECT COUNT(*) FROM objects WHERE \(filter.sql)",
                    arguments: filter.arguments
                )
                ?? 0
            guard limit != 0, offset < total else { return ObjectPage(objects: [], totalMatches: total) }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(StoredObject.columns) FROM objects WHERE \(filter.sql)
                    ORDER BY created_at, id LIMIT ? OFFSET ?
                    """,
                arguments: filter.arguments + [limit, offset]
            )
            return ObjectPage(objects: try Self.objects(from: rows, db), totalMatches: total)
        }
    }

    /// The `WHERE` clause of a listing: always the tenant first, then each filter of `query`.
    static func filter(tenantID: String, query: ObjectQuery) -> (sql: String, arguments: StatementArguments) {
        var conditions = ["tenant_id = ?"]
        var arguments: StatementArguments = [tenantID]
        if let objectType = query.objectType {
            conditions.append("object_type = ?")
            arguments += [Int64(objectType)]
        }
        if let states = query.states {
            let sorted = states.sorted()
            conditions.append("state IN (\(Array(repeating: "?", count: sorted.count).joined(separator: ", ")))")
            arguments += StatementArguments(sorted.map { Int64($0) })
        }
        if let name = query.name {
            conditions.append("id IN (SELECT object_id FROM object_names WHERE tenant_id = ? AND name = ?)")
            arguments += [tenantID, name]
        }
        if let createdSince = query.createdSince {
            conditions.append("created_at >= ?")
            arguments += [createdSince]
        }
        return (conditions.joined(separator: " AND "), arguments)
    }
}
