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
    /// Inserts a new object and its names in one transaction.
    ///
    /// A unique identifier is unique within its tenant.
    ///
    /// - Throws: ``KeyStoreError/alreadyExists`` for a unique identifier the tenant already has,
    ///   ``KeyStoreError/notFound`` when the tenant does not exist.
    public func insert(_ object: StoredObject) async throws {
        let meaning = StorageErrorMapping.Meaning(
            duplicate: "object \(object.uniqueIdentifier) already exists in tenant \(object.tenantID)",
            missingParent: "tenant \(object.tenantID) does not exist"
        )
        try await self.write(meaning) { db in try Self.insert(object, db) }
    }

    /// Inserts one object with all its columns and its names (also what a restore writes).
    static func insert(_ object: StoredObject, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO objects (\(StoredObject.columns))
                VALUES (NULL, ?, ?, ?, ?, \(Self.blobParameter), \(Self.wrappedKeyParameter), ?, ?, ?, ?, ?)
                """,
            arguments: [object.tenantID, object.uniqueIdentifier] + Self.contentArguments(object)
                + [object.createdAt, object.updatedAt, object.revision]
        )
        try Self.insertNames(object.names, objectID: db.lastInsertedRowID, tenantID: object.tenantID, db)
    }

    public func object(tenantID: String, uniqueIdentifier: String) async throws -> StoredObject? {
        try await self.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT \(StoredObject.columns) FROM objects WHERE tenant_id = ? AND unique_identifier = ?",
                    arguments: [tenantID, uniqueIdentifier]
                )
            else { return nil }
            return try Self.objects(from: [row], db).first
        }
    }

    /// Replaces an object's type, state, names, attributes, wrapped key and update time if its
    /// stored revision is `expectedRevision`; its creation time stays and its revision becomes
    /// `expectedRevision + 1` (`object.revision` is ignored).
    ///
    /// - Throws: ``KeyStoreError/notFound`` when the tenant has no such object,
    ///   ``KeyStoreError/conflict`` when its revision is not `expectedRevision`.
    public func update(_ object: StoredObject, expectedRevision: Int64) async throws {
        try await self.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT id, revision FROM objects WHERE tenant_id = ? AND unique_identifier = ?",
                    arguments: [object.tenantID, object.uniqueIdentifier]
                )
            else {
                throw KeyStoreError(
                    .notFound,
                    reason: "object \(object.uniqueIdentifier) does not exist in tenant \(object.tenantID)"
                )
            }
            let reader = ColumnReader(row: row, table: "objects")
            let id = try reader.int64("id")
            let revision = try reader.int64("revision")
            guard revision == expectedRevision else {
                throw KeyStoreError(
                    .conflict,
                    reason: "object \(object.uniqueIdentifier) is at revision \(revision), not \(expectedRevision)"
                )
            }
            try db.execute(
                sql: """
                    UPDATE objects SET object_type = ?, state = ?, attributes = \(Self.blobParameter),
                        wrapped_key = \(Self.wrappedKeyParameter), wrapped_root_key_id = ?,
                        wrapped_root_key_version = ?, updated_at = ?, revision = ?
                    WHERE id = ?
                    """,
                arguments: Self.contentArguments(object) + [object.updatedAt, expectedRevision + 1, id]
            )
            try db.execute(sql: "DELETE FROM object_names WHERE object_id = ?", arguments: [id])
            try Self.insertNames(object.names, objectID: id, tenantID: object.tenantID, db)
        }
    }

    public func objectsNeedingRewrap(tenantID: String, currentVersion: Int, limit: Int) async throws -> [StoredObject] {
        guard limit > 0 else { return [] }
        return try await self.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(StoredObject.columns) FROM objects
                    WHERE tenant_id = ? AND wrapped_key IS NOT NULL AND wrapped_root_key_version < ?
                    ORDER BY id LIMIT ?
                    """,
                arguments: [tenantID, Int64(currentVersion), limit]
            )
            return try Self.objects(from: rows, db)
        }
    }

    // MARK: Rows

    /// An empty `Data` may bind as NULL (its base address is nil); a NOT NULL BLOB column takes
    /// the empty blob instead.
    static let blobParameter = "ifnull(?, x'')"
    /// The wrapped ciphertext: NULL when there is no wrapped key (the root key id that follows is
    /// NULL too), otherwise a blob, empty if need be.
    static let wrappedKeyParameter = "CASE WHEN ? THEN ifnull(?, x'') END"

    /// The arguments of `object_type, state, attributes, wrapped_key, wrapped_root_key_id,
    /// wrapped_root_key_version`, in that order, matching ``blobParameter`` and
    /// ``wrappedKeyParameter``.
    static func contentArguments(_ object: StoredObject) -> StatementArguments {
        let wrapped = object.wrappedKey
        return [
            Int64(object.objectType), Int64(object.state), Data(object.attributes),
            wrapped != nil, wrapped.map { Data($0.ciphertext) },
            wrapped?.rootKeyID, wrapped.map { Int64($0.rootKeyVersion) },
        ]
    }

    static func insertNames(_ names: [String], objectID: Int64, tenantID: String, _ db: Database) throws {
        let statement = try db.cachedStatement(
            sql: "INSERT INTO object_names (object_id, position, tenant_id, name) VALUES (?, ?, ?, ?)"
        )
        for (position, name) in names.enumerated() {
            try statement.execute(arguments: [objectID, position, tenantID, name])
        }
    }

    /// Decodes `objects` rows and attaches their names, in the order of `rows`.
    static func objects(from rows: [Row], _ db: Database) throws -> [StoredObject] {
        let ids = try rows.map { try ColumnReader(row: $0, table: "objects").int64("id") }
        var names: [Int64: [String]] = [:]
        // Well under SQLITE_MAX_VARIABLE_NUMBER per statement.
        let chunkSize = 500
        for start in stride(from: 0, to: ids.count, by: chunkSize) {
            let chunk = Array(ids[start..<min(start + chunkSize, ids.count)])
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
            let nameRows = try Row.fetchAll(
                db,
                sql: """
                    SELECT object_id, name FROM object_names WHERE object_id IN (\(placeholders))
                    ORDER BY object_id, position
                    """,
                arguments: StatementArguments(chunk)
            )
            for nameRow in nameRows {
                let reader = ColumnReader(row: nameRow, table: "object_names")
                names[try reader.int64("object_id"), default: []].append(try reader.string("name"))
            }
        }
        return try zip(rows, ids).map { row, id in try StoredObject(row: row, names: names[id] ?? []) }
    }
}
