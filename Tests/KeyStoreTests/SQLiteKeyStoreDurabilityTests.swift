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
import Testing

@testable import KeyStore

@Suite("SQLiteKeyStore durability, migrations and corrupted data")
struct SQLiteKeyStoreDurabilityTests {
    @Test func connectionsUseWALFullSynchronousForeignKeysAndABusyTimeout() async throws {
        try await withTemporaryStore { store, _ in
            let writerSettings = try await store.writer.write { db in
                [
                    try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                    try String.fetchOne(db, sql: "PRAGMA synchronous"),
                    try String.fetchOne(db, sql: "PRAGMA foreign_keys"),
                    try String.fetchOne(db, sql: "PRAGMA busy_timeout"),
                ]
            }
            // synchronous 2 is FULL.
            #expect(writerSettings == ["wal", "2", "1", "5000"])
            let readerSettings = try await store.writer.read { db in
                [
                    try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                    try String.fetchOne(db, sql: "PRAGMA synchronous"),
                    try String.fetchOne(db, sql: "PRAGMA foreign_keys"),
                ]
            }
            #expect(readerSettings == ["wal", "2", "1"])
        }
    }

    @Test func anIndependentConnectionSeesCommittedRowsAsSoonAsACallReturns() async throws {
        try await withTemporaryStore { store, path in
            let observer = try DatabaseQueue(path: path)
            defer { try? observer.close() }
            let countObjects = { try observer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM objects") } }

            try await store.createTenant(Sample.tenant("a"))
            #expect(try await observer.read { try String.fetchOne($0, sql: "SELECT id FROM tenants") } == "a")
            #expect(try countObjects() == 0)
            try await store.insert(Sample.object(tenantID: "a", uid: "k1", state: 1))
            #expect(try countObjects() == 1)
            try await store.update(Sample.object(tenantID: "a", uid: "k1", state: 2), expectedRevision: 0)
            let row = try observer.read { try Row.fetchOne($0, sql: "SELECT state, revision FROM objects") }
            #expect(row == ["state": 2, "revision": 1])
        }
    }

    @Test func migrationsCreateTheSchemaOnAFreshFile() async throws {
        try await withTemporaryStore { _, path in
            let observer = try DatabaseQueue(path: path)
            defer { try? observer.close() }
            let migrations = try observer.read {
                try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations")
            }
            #expect(migrations == SQLiteKeyStore.migrationIdentifiers)
            let schema = try observer.read { db in
                try String.fetchAll(
                    db,
                    sql:
                        "SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND sql IS NOT NULL ORDER BY name"
                )
            }
            #expect(
                schema == [
                    "client_rules", "client_rules_by_fingerprint", "client_rules_by_tenant", "grdb_migrations",
                    "object_names", "object_names_by_name", "objects", "objects_by_creation", "objects_by_type_state",
                    "objects_by_uid", "objects_by_wrap_version", "shared_values", "tenants",
                ]
            )
        }
    }

    @Test func dataSurvivesCloseAndReopen() async throws {
        try await withTemporaryDatabase { path in
            let object = Sample.object(tenantID: "a", uid: "k1", names: ["disk"])
            do {
                let store = try SQLiteKeyStore(path: path)
                try await store.createTenant(Sample.tenant("a"))
                try await store.addClient(Sample.client("r1", tenantID: "a"))
                try await store.insert(object)
                try store.close()
            }
            let reopened = try SQLiteKeyStore(path: path)
            defer { try? reopened.close() }
            #expect(try await reopened.tenants() == [Sample.tenant("a")])
            #expect(try await reopened.clients(tenantID: "a") == [Sample.client("r1", tenantID: "a")])
            #expect(try await reopened.object(tenantID: "a", uniqueIdentifier: "k1") == object)
            try await reopened.insert(Sample.object(tenantID: "a", uid: "k2"))
            #expect(try await reopened.objects(tenantID: "a", matching: ObjectQuery()).totalMatches == 2)
        }
    }

    @Test func aDatabaseMigratedByANewerVersionIsRefused() async throws {
        try await withTemporaryDatabase { path in
            try SQLiteKeyStore(path: path).close()
            let raw = try DatabaseQueue(path: path)
            try await raw.write {
                try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v2-from-the-future')")
            }
            try raw.close()
            await expectKeyStoreError(.storage) { _ = try SQLiteKeyStore(path: path) }
        }
    }

    @Test func aFileThatIsNotADatabaseIsAStorageError() async throws {
        try await withTemporaryDatabase { path in
            try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))
            await expectKeyStoreError(.storage) { _ = try SQLiteKeyStore(path: path) }
        }
    }

    @Test func corruptedRowsAreStorageErrorsNotCrashes() async throws {
        try await withTemporaryStore { store, path in
            try await store.createTenant(Sample.tenant("a"))
            try await store.addClient(Sample.client("r1", tenantID: "a"))
            try await store.insert(Sample.object(tenantID: "a", uid: "out-of-range"))
            try await store.insert(Sample.object(tenantID: "a", uid: "half-wrapped"))

            let raw = try DatabaseQueue(path: path)
            defer { try? raw.close() }
            try await raw.writeWithoutTransaction { db in
                try db.execute(sql: "UPDATE objects SET object_type = -1 WHERE unique_identifier = 'out-of-range'")
                try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
                try db.execute(sql: "UPDATE objects SET wrapped_key = NULL WHERE unique_identifier = 'half-wrapped'")
                try db.execute(sql: "UPDATE client_rules SET kind = 'bogus'")
            }

            await expectKeyStoreError(.storage) {
                _ = try await store.object(tenantID: "a", uniqueIdentifier: "out-of-range")
            }
            await expectKeyStoreError(.storage) {
                _ = try await store.object(tenantID: "a", uniqueIdentifier: "half-wrapped")
            }
            await expectKeyStoreError(.storage) { _ = try await store.objects(tenantID: "a", matching: ObjectQuery()) }
            await expectKeyStoreError(.storage) {
                _ = try await store.objectsNeedingRewrap(tenantID: "a", currentVersion: 9, limit: 10)
            }
            await expectKeyStoreError(.storage) { _ = try await store.clients(tenantID: nil) }
            // The tenant itself is intact.
            #expect(try await store.tenant(id: "a") == Sample.tenant("a"))
        }
    }

    @Test(
        arguments: [
            ("object_type", "two".databaseValue),
            ("state", 1.5.databaseValue),
            ("attributes", "not a blob".databaseValue),
            ("tenant_id", Data([1, 2]).databaseValue),
            ("revision", DatabaseValue.null),
            ("updated_at", nil),
        ] as [(String, DatabaseValue?)]
    )
    func wronglyTypedColumnsDoNotDecode(column: String, value: DatabaseValue?) throws {
        var values: [String: (any DatabaseValueConvertible)?] = [
            "id": 1, "tenant_id": "a", "unique_identifier": "k1", "object_type": 2, "state": 2,
            "attributes": Data([1]), "wrapped_key": nil, "wrapped_root_key_id": nil,
            "wrapped_root_key_version": nil, "created_at": 1, "updated_at": 1, "revision": 0,
        ]
        #expect(throws: Never.self) { try StoredObject(row: Row(values), names: []) }
        if let value {
            values[column] = value
        } else {
            values.removeValue(forKey: column)
        }
        #expect(throws: KeyStoreError(.storage, reason: "")) { try StoredObject(row: Row(values), names: []) }
    }

    @Test func errorsCompareByCodeAndMatchInCatchClauses() {
        let error = KeyStoreError(.conflict, reason: "object k1 is at revision 3, not 2")
        #expect(error == KeyStoreError(.conflict, reason: "other"))
        #expect(error != KeyStoreError(.notFound, reason: "object k1 is at revision 3, not 2"))
        #expect(KeyStoreError.conflict ~= error)
        #expect(!(KeyStoreError.storage ~= error))
        #expect("\(error)".hasPrefix("KeyStoreError.conflict: object k1 is at revision 3, not 2"))
    }
}
