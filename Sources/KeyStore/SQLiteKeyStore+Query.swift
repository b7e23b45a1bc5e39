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
    /// order; both reversed with `query.newestFirst`), after skipping `query.offset` and returning
    /// at most `query.limit`.
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
                    ORDER BY \(Self.order(query)) LIMIT ? OFFSET ?
                    """,
                arguments: filter.arguments + [limit, offset]
            )
            return ObjectPage(objects: try Self.objects(from: rows, db), totalMatches: total)
        }
    }

    /// The objects of a tenant that match `query` and `scan.predicate`, in the order of `query`,
    /// after skipping `query.offset` matches and returning at most `query.limit`.
    ///
    /// Candidates (the rows `query` selects) are read `scan.chunkSize` at a time, each chunk in
    /// its own read transaction and continuing after the last row of the previous one (keyset
    /// pagination on creation time and row id), so a long scan holds a reader connection only
    /// a chunk at a time and sees every row that exists throughout it exactly once. The
    /// predicate runs on GRDB's reader queue with the chunk. Reading stops once the page is full
    /// unless `scan.countsEveryMatch`.
    public func objects(tenantID: String, matching query: ObjectQuery, scan: ObjectScan) async throws -> ObjectPage {
        if let states = query.states, states.isEmpty {
            return ObjectPage(objects: [], totalMatches: 0, rowsRead: 0, largestChunk: 0)
        }
        let filter = Self.filter(tenantID: tenantID, query: query)
        let offset = max(0, query.offset)
        let limit = query.limit.map { max(0, $0) } ?? Int.max
        let chunkSize = max(1, scan.chunkSize)
        let after = query.newestFirst ? "<" : ">"
        let predicate = scan.predicate
        if limit == 0 && !scan.countsEveryMatch {
            return ObjectPage(objects: [], totalMatches: 0, isCountComplete: false, rowsRead: 0, largestChunk: 0)
        }
        var cursor: ScanCursor?
        var matches = 0
        var rowsRead = 0
        var largestChunk = 0
        var page: [StoredObject] = []
        while true {
            try Task.checkCancellation()
            let start = cursor
            // Only what the page still needs leaves the read: at most a chunk of objects.
            let wanted = (skip: max(0, offset - matches), take: limit - page.count)
            let chunk = try await self.read { db -> ScanChunk in
                var sql = "SELECT \(StoredObject.columns) FROM objects WHERE \(filter.sql)"
                var arguments = filter.arguments
                if let start {
                    sql += " AND (created_at, id) \(after) (?, ?)"
                    arguments += [start.createdAt, start.id]
                }
                sql += " ORDER BY \(Self.order(query)) LIMIT ?"
                arguments += [chunkSize]
                let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
                var result = ScanChunk(rowCount: rows.count)
                if let last = rows.last {
                    let reader = ColumnReader(row: last, table: "objects")
                    result.last = ScanCursor(createdAt: try reader.int64("created_at"), id: try reader.int64("id"))
                }
                for object in try Self.objects(from: rows, db) where try predicate(object) {
                    result.matches += 1
                    if result.matches > wanted.skip && result.kept.count < wanted.take { result.kept.append(object) }
                }
                return result
            }
            rowsRead += chunk.rowCount
            largestChunk = max(largestChunk, chunk.rowCount)
            matches += chunk.matches
            page += chunk.kept
            cursor = chunk.last
            let exhausted = chunk.rowCount < chunkSize
            if exhausted || (page.count >= limit && !scan.countsEveryMatch) {
                // Stopped early: only the matches up to the end of the page are known.
                let complete = exhausted
                let counted = complete ? matches : min(matches, offset + page.count)
                return ObjectPage(
                    objects: page,
                    totalMatches: counted,
                    isCountComplete: complete,
                    rowsRead: rowsRead,
                    largestChunk: largestChunk
                )
            }
        }
    }

    /// The `ORDER BY` of a listing: creation time, then row id (insertion order).
    static func order(_ query: ObjectQuery) -> String {
        query.newestFirst ? "created_at DESC, id DESC" : "created_at, id"
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

/// Where a chunked scan goes on: after this creation time and row id, in the scan's order.
private struct ScanCursor: Sendable {
    var createdAt: Int64
    var id: Int64
}

/// What one chunk of a scan read: how many rows, where it ended, how many matched and the
/// matches the page still needed.
private struct ScanChunk: Sendable {
    var rowCount: Int
    var last: ScanCursor?
    var matches = 0
    var kept: [StoredObject] = []
}
