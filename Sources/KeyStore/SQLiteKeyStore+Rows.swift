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

/// Reads the columns of one fetched row strictly: a missing column, a NULL where a value is
/// required, a value of another storage class or out of range is a ``KeyStoreError/storage``
/// error naming the table and column, never the value (it may be wrapped key material).
///
/// Values are read as `DatabaseValue`s rather than through GRDB's typed accessors, which crash
/// on a mismatch (subscripts) or let SQLite convert silently (statement-backed rows).
struct ColumnReader {
    var row: Row
    var table: String

    func int64(_ column: String) throws -> Int64 {
        guard let value = try self.optionalInt64(column) else { throw self.error(column, "is NULL") }
        return value
    }

    func optionalInt64(_ column: String) throws -> Int64? {
        switch try self.value(column).storage {
        case .null: return nil
        case .int64(let value): return value
        case .double, .string, .blob: throw self.error(column, "is not an INTEGER")
        }
    }

    func int(_ column: String) throws -> Int {
        guard let value = Int(exactly: try self.int64(column)) else { throw self.error(column, "is out of range") }
        return value
    }

    func uint32(_ column: String) throws -> UInt32 {
        guard let value = UInt32(exactly: try self.int64(column)) else { throw self.error(column, "is out of range") }
        return value
    }

    func string(_ column: String) throws -> String {
        guard let value = try self.optionalString(column) else { throw self.error(column, "is NULL") }
        return value
    }

    func optionalString(_ column: String) throws -> String? {
        switch try self.value(column).storage {
        case .null: return nil
        case .string(let value): return value
        case .int64, .double, .blob: throw self.error(column, "is not TEXT")
        }
    }

    func bytes(_ column: String) throws -> [UInt8] {
        guard let value = try self.optionalBytes(column) else { throw self.error(column, "is NULL") }
        return value
    }

    func optionalBytes(_ column: String) throws -> [UInt8]? {
        switch try self.value(column).storage {
        case .null: return nil
        case .blob(let data): return [UInt8](data)
        case .int64, .double, .string: throw self.error(column, "is not a BLOB")
        }
    }

    func error(_ column: String, _ problem: String, file: String = #fileID, line: UInt = #line) -> KeyStoreError {
        KeyStoreError(.storage, reason: "\(self.table).\(column) \(problem)", file: file, line: line)
    }

    private func value(_ column: String) throws -> DatabaseValue {
        guard self.row.hasColumn(column) else { throw self.error(column, "is missing") }
        return try self.row.decode(DatabaseValue.self, forColumn: column)
    }
}

extension Tenant {
    static let columns = "id, display_name, root_key_provider, root_key_id, root_key_version, created_at"

    init(row: Row) throws {
        let reader = ColumnReader(row: row, table: "tenants")
        self.init(
            id: try reader.string("id"),
            displayName: try reader.string("display_name"),
            rootKey: RootKeyReference(
                provider: try reader.string("root_key_provider"),
                keyID: try reader.string("root_key_id"),
                version: try reader.int("root_key_version")
            ),
            createdAt: try reader.int64("created_at")
        )
    }
}

extension ClientRule {
    static let columns = "id, tenant_id, kind, fingerprint, certificate_pem, label, created_at"

    init(row: Row) throws {
        let reader = ColumnReader(row: row, table: "client_rules")
        guard let kind = Kind(rawValue: try reader.string("kind")) else {
            throw reader.error("kind", "is not a known kind")
        }
        self.init(
            id: try reader.string("id"),
            tenantID: try reader.string("tenant_id"),
            kind: kind,
            fingerprint: try reader.string("fingerprint"),
            certificatePEM: try reader.string("certificate_pem"),
            label: try reader.string("label"),
            createdAt: try reader.int64("created_at")
        )
    }
}

extension StoredObject {
    static let columns = """
        id, tenant_id, unique_identifier, object_type, state, attributes, wrapped_key, \
        wrapped_root_key_id, wrapped_root_key_version, created_at, updated_at, revision
        """

    /// Decodes an `objects` row; `names` come from `object_names`.
    init(row: Row, names: [String]) throws {
        let reader = ColumnReader(row: row, table: "objects")
        let wrappedKey: WrappedKeyRecord?
        switch (
            try reader.optionalBytes("wrapped_key"), try reader.optionalString("wrapped_root_key_id"),
            try reader.optionalInt64("wrapped_root_key_version")
        ) {
        case (nil, nil, nil):
            wrappedKey = nil
        case (let ciphertext?, let rootKeyID?, let version?):
            guard let version = Int(exactly: version) else {
                throw reader.error("wrapped_root_key_version", "is out of range")
            }
            wrappedKey = WrappedKeyRecord(ciphertext: ciphertext, rootKeyID: rootKeyID, rootKeyVersion: version)
        default:
            throw reader.error("wrapped_key", "is inconsistent with wrapped_root_key_id and wrapped_root_key_version")
        }
        self.init(
            tenantID: try reader.string("tenant_id"),
            uniqueIdentifier: try reader.string("unique_identifier"),
            objectType: try reader.uint32("object_type"),
            state: try reader.uint32("state"),
            names: names,
            attributes: try reader.bytes("attributes"),
            wrappedKey: wrappedKey,
            createdAt: try reader.int64("created_at"),
            updatedAt: try reader.int64("updated_at"),
            revision: try reader.int64("revision")
        )
    }
}
