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
    /// The schema migrations, in the order they apply. A migration, once released, never changes:
    /// later schema changes are new migrations appended here.
    public static var migrationIdentifiers: [String] { ["v1", "v2-shared-values"] }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1", migrate: Self.migrateV1)
        migrator.registerMigration("v2-shared-values") { db in
            try db.execute(
                sql: """
                    CREATE TABLE shared_values (
                        name TEXT NOT NULL PRIMARY KEY,
                        value BLOB NOT NULL,
                        updated_at INTEGER NOT NULL
                    ) STRICT
                    """
            )
        }
        return migrator
    }

    /// Tenants, client rules, objects and their names.
    ///
    /// Tables are `STRICT` (SQLite 3.37+), so a value of the wrong type is refused on write.
    /// A unique identifier is unique within its tenant. `object_names` keeps every Name of an
    /// object in order, with the tenant id repeated so a Locate by name is one index lookup.
    private static func migrateV1(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE tenants (
                    id TEXT NOT NULL PRIMARY KEY,
                    display_name TEXT NOT NULL,
                    root_key_provider TEXT NOT NULL,
                    root_key_id TEXT NOT NULL,
                    root_key_version INTEGER NOT NULL,
                    created_at INTEGER NOT NULL
                ) STRICT;

                CREATE TABLE client_rules (
                    id TEXT NOT NULL PRIMARY KEY,
                    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    certificate_pem TEXT NOT NULL,
                    label TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                ) STRICT;
                CREATE INDEX client_rules_by_tenant ON client_rules(tenant_id, id);
                CREATE INDEX client_rules_by_fingerprint ON client_rules(fingerprint);

                CREATE TABLE objects (
                    id INTEGER NOT NULL PRIMARY KEY,
                    tenant_id TEXT NOT NULL REFERENCES tenants(id),
                    unique_identifier TEXT NOT NULL,
                    object_type INTEGER NOT NULL,
                    state INTEGER NOT NULL,
                    attributes BLOB NOT NULL,
                    wrapped_key BLOB,
                    wrapped_root_key_id TEXT,
                    wrapped_root_key_version INTEGER,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    revision INTEGER NOT NULL,
                    CHECK ((wrapped_key IS NULL) = (wrapped_root_key_id IS NULL)),
                    CHECK ((wrapped_key IS NULL) = (wrapped_root_key_version IS NULL))
                ) STRICT;
                CREATE UNIQUE INDEX objects_by_uid ON objects(tenant_id, unique_identifier);
                CREATE INDEX objects_by_type_state ON objects(tenant_id, object_type, state);
                CREATE INDEX objects_by_creation ON objects(tenant_id, created_at);
                CREATE INDEX objects_by_wrap_version ON objects(tenant_id, wrapped_root_key_version)
                    WHERE wrapped_key IS NOT NULL;

                CREATE TABLE object_names (
                    object_id INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    tenant_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    PRIMARY KEY (object_id, position)
                ) STRICT, WITHOUT ROWID;
                CREATE INDEX object_names_by_name ON object_names(tenant_id, name);
                """
        )
    }
}
