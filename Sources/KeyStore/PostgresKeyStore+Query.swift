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
    /// The objects of a tenant that match `query`, ordered by creation time (then insertion
    /// order; both reversed with `query.newestFirst`), after skipping `query.offset` and returning
    /// at most `query.limit`.
    ///
    /// The count and the page come from one repeatable-read transaction (one snapshot), so
    /// ``ObjectPage/totalMatches`` is consistent with the page. A negative offset counts as zero
    /// and a negative limit as zero; an empty `states` set matches nothing.
    public func objects(tenantID: String, matching query: ObjectQuery) async throws -> ObjectPage {
        if let states = query.states, states.isEmpty {
            return ObjectPage(objects: [], totalMatches: 0)
        }
        let offset = Int64(max(0, query.offset))
        let limit = query.limit.map { Int64(max(0, $0)) }
        let count = Self.filtered("SELECT count(*) FROM objects", tenantID: tenantID, query: query)
        var page = Self.filtered(
            "SELECT \(StoredObject.postgresColumns) FROM objects",
            tenantID: tenantID,
            query: query
        )
        page.sql += " ORDER BY \(Self.order(query))"
        if let limit {
            page.binds.append(limit)
            page.sql += " LIMIT $\(page.binds.count)"
        }
        page.binds.append(offset)
        page.sql += " OFFSET $\(page.binds.count)"
        return try await self.transaction(readOnlySnapshot: true) { [logger, page] connection in
            var total = 0
            for try await value in try await connection.query(count, logger: logger).decode(Int64.self) {
                total = Int(value)
            }
            guard limit != 0, offset < total else { return ObjectPage(objects: [], totalMatches: total) }
            var objects: [StoredObject] = []
            for try await row in try await connection.query(page, logger: logger) {
                objects.append(try StoredObject(postgresRow: row))
            }
            return ObjectPage(objects: objects, totalMatches: total)
        }
    }

    /// The objects of a tenant that match `query` and `scan.predicate`, in the order of `query`,
    /// after skipping `query.offset` matches and returning at most `query.limit`.
    ///
    /// Candidates are read `scan.chunkSize` at a time, each chunk one statement continuing after
    /// the last row of the previous one (keyset pagination on creation time and row id), so a
    /// long scan holds a connection a chunk at a time. The predicate runs in a task of its own,
    /// never on the caller's executor. Reading stops once the page is full unless
    /// `scan.countsEveryMatch`.
    public func objects(tenantID: String, matching query: ObjectQuery, scan: ObjectScan) async throws -> ObjectPage {
        if let states = query.states, states.isEmpty {
            return ObjectPage(objects: [], totalMatches: 0, rowsRead: 0, largestChunk: 0)
        }
        let offset = max(0, query.offset)
        let limit = query.limit.map { max(0, $0) } ?? Int.max
        let chunkSize = max(1, scan.chunkSize)
        if limit == 0 && !scan.countsEveryMatch {
            return ObjectPage(objects: [], totalMatches: 0, isCountComplete: false, rowsRead: 0, largestChunk: 0)
        }
        var cursor: (createdAt: Int64, id: Int64)?
        var progress = (matches: 0, rowsRead: 0, largestChunk: 0)
        var page: [StoredObject] = []
        while true {
            try Task.checkCancellation()
            var statement = Self.filtered(
                "SELECT \(StoredObject.postgresColumns) FROM objects",
                tenantID: tenantID,
                query: query
            )
            if let cursor {
                statement.binds.append(cursor.createdAt)
                statement.binds.append(cursor.id)
                let count = statement.binds.count
                statement.sql += " AND (created_at, id) \(query.newestFirst ? "<" : ">") ($\(count - 1), $\(count))"
            }
            statement.binds.append(Int64(chunkSize))
            statement.sql += " ORDER BY \(Self.order(query)) LIMIT $\(statement.binds.count)"
            let rows = try await self.rows(statement) { row -> (StoredObject, Int64, Int64) in
                let columns = row.makeRandomAccess()
                return (
                    try StoredObject(postgresRow: row), try columns["created_at"].decode(Int64.self),
                    try columns["id"].decode(Int64.self)
                )
            }
            progress.rowsRead += rows.count
            progress.largestChunk = max(progress.largestChunk, rows.count)
            if let last = rows.last { cursor = (last.1, last.2) }
            let wanted = (skip: max(0, offset - progress.matches), take: limit - page.count)
            let candidates = rows.map(\.0)
            let matched = try await Task.detached { [predicate = scan.predicate] in
                try candidates.filter(predicate)
            }.value
            progress.matches += matched.count
            page += matched.dropFirst(wanted.skip).prefix(wanted.take)
            let exhausted = rows.count < chunkSize
            if exhausted || (page.count >= limit && !scan.countsEveryMatch) {
                let counted = exhausted ? progress.matches : min(progress.matches, offset + page.count)
                return ObjectPage(
                    objects: page,
                    totalMatches: counted,
                    isCountComplete: exhausted,
                    rowsRead: progress.rowsRead,
                    largestChunk: progress.largestChunk
                )
            }
        }
    }

    /// The `ORDER BY` of a listing: creation time, then row id (insertion order).
    static func order(_ query: ObjectQuery) -> String {
        query.newestFirst ? "created_at DESC, id DESC" : "created_at, id"
    }

    /// `select` with the `WHERE` clause of a listing: always the tenant first, then each filter.
    static func filtered(_ select: String, tenantID: String, query: ObjectQuery) -> PostgresQuery {
        var binds = PostgresBindings()
        binds.append(tenantID)
        var conditions = ["tenant_id = $1"]
        if let objectType = query.objectType {
            binds.append(Int64(objectType))
            conditions.append("object_type = $\(binds.count)")
        }
        if let states = query.states {
            binds.append(states.sorted().map { Int64($0) })
            conditions.append("state = ANY($\(binds.count))")
        }
        if let name = query.name {
            binds.append([name])
            conditions.append("names @> $\(binds.count)")
        }
        if let createdSince = query.createdSince {
            binds.append(createdSince)
            conditions.append("created_at >= $\(binds.count)")
        }
        return PostgresQuery(unsafeSQL: select + " WHERE " + conditions.joined(separator: " AND "), binds: binds)
    }
}
#endif
