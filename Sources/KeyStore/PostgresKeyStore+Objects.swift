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
    /// Inserts a new object and its names in one statement.
    ///
    /// - Throws: ``KeyStoreError/alreadyExists`` for a unique identifier the tenant already has,
    ///   ``KeyStoreError/notFound`` when the tenant does not exist.
    public func insert(_ object: StoredObject) async throws {
        let meaning = StorageErrorMapping.Meaning(
            duplicate: "object \(object.uniqueIdentifier) already exists in tenant \(object.tenantID)",
            missingParent: "tenant \(object.tenantID) does not exist"
        )
        _ = try await self.rows(Self.insertQuery(object), meaning) { _ in () }
    }

    /// The `INSERT` of one object with all its columns (also what a restore writes).
    static func insertQuery(_ object: StoredObject) -> PostgresQuery {
        let wrapped = PostgresWrappedColumns(object.wrappedKey)
        return """
            INSERT INTO objects (tenant_id, unique_identifier, object_type, state, names, attributes, wrapped_key,
                wrapped_root_key_id, wrapped_root_key_version, created_at, updated_at, revision)
            VALUES (\(object.tenantID), \(object.uniqueIdentifier), \(Int64(object.objectType)),
                \(Int64(object.state)), \(object.names), \(ByteBuffer(bytes: object.attributes)),
                \(wrapped.ciphertext), \(wrapped.rootKeyID), \(wrapped.version),
                \(object.createdAt), \(object.updatedAt), \(object.revision))
            """
    }

    public func object(tenantID: String, uniqueIdentifier: String) async throws -> StoredObject? {
        try await self.rows(
            """
            SELECT \(unescaped: StoredObject.postgresColumns) FROM objects
            WHERE tenant_id = \(tenantID) AND unique_identifier = \(uniqueIdentifier)
            """,
            decode: StoredObject.init(postgresRow:)
        ).first
    }

    /// Replaces an object's type, state, names, attributes, wrapped key and update time if its
    /// stored revision is `expectedRevision`; its creation time stays and its revision becomes
    /// `expectedRevision + 1` (`object.revision` is ignored). The revision is checked by the
    /// `UPDATE` itself, so of two nodes that update one object from the same revision, one wins.
    ///
    /// - Throws: ``KeyStoreError/notFound`` when the tenant has no such object,
    ///   ``KeyStoreError/conflict`` when its revision is not `expectedRevision`.
    public func update(_ object: StoredObject, expectedRevision: Int64) async throws {
        let wrapped = PostgresWrappedColumns(object.wrappedKey)
        let updated: [Bool] = try await self.rows(
            """
            UPDATE objects SET object_type = \(Int64(object.objectType)), state = \(Int64(object.state)),
                names = \(object.names), attributes = \(ByteBuffer(bytes: object.attributes)),
                wrapped_key = \(wrapped.ciphertext), wrapped_root_key_id = \(wrapped.rootKeyID),
                wrapped_root_key_version = \(wrapped.version), updated_at = \(object.updatedAt),
                revision = revision + 1
            WHERE tenant_id = \(object.tenantID) AND unique_identifier = \(object.uniqueIdentifier)
                AND revision = \(expectedRevision)
            RETURNING id
            """
        ) { _ in true }
        guard updated.isEmpty else { return }
        let current = try await self.rows(
            """
            SELECT revision FROM objects
            WHERE tenant_id = \(object.tenantID) AND unique_identifier = \(object.uniqueIdentifier)
            """
        ) { try $0.decode(Int64.self) }
        guard let revision = current.first else {
            throw KeyStoreError(
                .notFound,
                reason: "object \(object.uniqueIdentifier) does not exist in tenant \(object.tenantID)"
            )
        }
        throw KeyStoreError(
            .conflict,
            reason: "object \(object.uniqueIdentifier) is at revision \(revision), not \(expectedRevision)"
        )
    }

    public func objectsNeedingRewrap(tenantID: String, currentVersion: Int, limit: Int) async throws -> [StoredObject] {
        guard limit > 0 else { return [] }
        return try await self.rows(
            """
            SELECT \(unescaped: StoredObject.postgresColumns) FROM objects
            WHERE tenant_id = \(tenantID) AND wrapped_key IS NOT NULL
                AND wrapped_root_key_version < \(Int64(currentVersion))
            ORDER BY id LIMIT \(Int64(limit))
            """,
            decode: StoredObject.init(postgresRow:)
        )
    }
}

/// The three wrapped-key columns of an object: all NULL, or all set.
struct PostgresWrappedColumns {
    var ciphertext: ByteBuffer?
    var rootKeyID: String?
    var version: Int64?

    init(_ wrapped: WrappedKeyRecord?) {
        self.ciphertext = wrapped.map { ByteBuffer(bytes: $0.ciphertext) }
        self.rootKeyID = wrapped?.rootKeyID
        self.version = wrapped.map { Int64($0.rootKeyVersion) }
    }
}

extension StoredObject {
    static let postgresColumns = """
        id, tenant_id, unique_identifier, object_type, state, names, attributes, wrapped_key, \
        wrapped_root_key_id, wrapped_root_key_version, created_at, updated_at, revision
        """

    /// Decodes an `objects` row (``postgresColumns``).
    init(postgresRow row: PostgresRow) throws {
        let (
            _, tenantID, uniqueIdentifier, objectType, state, names, attributes, ciphertext, rootKeyID, version,
            createdAt, updatedAt, revision
        ) = try row.decode(
            (
                Int64, String, String, Int64, Int64, [String], ByteBuffer, ByteBuffer?, String?, Int64?,
                Int64, Int64, Int64
            ).self
        )
        let wrappedKey: WrappedKeyRecord?
        switch (ciphertext, rootKeyID, version) {
        case (nil, nil, nil):
            wrappedKey = nil
        case (let ciphertext?, let rootKeyID?, let version?):
            guard let version = Int(exactly: version) else {
                throw KeyStoreError(.storage, reason: "objects.wrapped_root_key_version is out of range")
            }
            wrappedKey = WrappedKeyRecord(
                ciphertext: Array(ciphertext.readableBytesView),
                rootKeyID: rootKeyID,
                rootKeyVersion: version
            )
        default:
            throw KeyStoreError(
                .storage,
                reason: "objects.wrapped_key is inconsistent with wrapped_root_key_id and wrapped_root_key_version"
            )
        }
        guard let objectType = UInt32(exactly: objectType), let state = UInt32(exactly: state) else {
            throw KeyStoreError(.storage, reason: "objects.object_type or objects.state is out of range")
        }
        self.init(
            tenantID: tenantID,
            uniqueIdentifier: uniqueIdentifier,
            objectType: objectType,
            state: state,
            names: names,
            attributes: Array(attributes.readableBytesView),
            wrappedKey: wrappedKey,
            createdAt: createdAt,
            updatedAt: updatedAt,
            revision: revision
        )
    }
}
#endif
