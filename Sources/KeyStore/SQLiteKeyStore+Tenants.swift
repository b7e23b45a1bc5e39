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
    // MARK: Tenants

    public func createTenant(_ tenant: Tenant) async throws {
        // The id names a directory of client files and appears in every audit line.
        try NameRules.validate(tenant.id, kind: "tenant id")
        let meaning = StorageErrorMapping.Meaning(duplicate: "tenant \(tenant.id) already exists")
        try await self.write(meaning) { db in try Self.insert(tenant, db) }
    }

    /// Inserts one tenant (also what a restore writes).
    static func insert(_ tenant: Tenant, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO tenants (\(Tenant.columns)) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                tenant.id, tenant.displayName, tenant.rootKey.provider, tenant.rootKey.keyID,
                Int64(tenant.rootKey.version), tenant.createdAt,
            ]
        )
    }

    public func tenant(id: String) async throws -> Tenant? {
        try await self.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Tenant.columns) FROM tenants WHERE id = ?", arguments: [id])
                .map(Tenant.init(row:))
        }
    }

    public func tenants() async throws -> [Tenant] {
        try await self.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Tenant.columns) FROM tenants ORDER BY id").map(Tenant.init(row:))
        }
    }

    /// Replaces a tenant's display name and root key reference; its creation time stays.
    ///
    /// - Throws: ``KeyStoreError/notFound`` when the tenant does not exist.
    public func updateTenant(_ tenant: Tenant) async throws {
        try await self.write { db in
            try db.execute(
                sql: """
                    UPDATE tenants SET display_name = ?, root_key_provider = ?, root_key_id = ?, root_key_version = ?
                    WHERE id = ?
                    """,
                arguments: [
                    tenant.displayName, tenant.rootKey.provider, tenant.rootKey.keyID, Int64(tenant.rootKey.version),
                    tenant.id,
                ]
            )
            if db.changesCount == 0 {
                throw KeyStoreError(.notFound, reason: "tenant \(tenant.id) does not exist")
            }
        }
    }

    // MARK: Clients

    /// Adds a trust rule.
    ///
    /// - Throws: ``KeyStoreError/alreadyExists`` when the rule id is taken,
    ///   ``KeyStoreError/notFound`` when the tenant does not exist.
    public func addClient(_ client: ClientRule) async throws {
        let meaning = StorageErrorMapping.Meaning(
            duplicate: "client rule \(client.id) already exists",
            missingParent: "tenant \(client.tenantID) does not exist"
        )
        try await self.write(meaning) { db in try Self.insert(client, db) }
    }

    /// Inserts one client rule (also what a restore writes).
    static func insert(_ client: ClientRule, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO client_rules (\(ClientRule.columns)) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [
                client.id, client.tenantID, client.kind.rawValue, client.fingerprint, client.certificatePEM,
                client.label, client.createdAt,
            ]
        )
    }

    public func removeClient(id: String) async throws -> Bool {
        try await self.write { db in
            try db.execute(sql: "DELETE FROM client_rules WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    /// Every rule ordered by id, or those of `tenantID` ordered by id.
    public func clients(tenantID: String?) async throws -> [ClientRule] {
        try await self.read { db in
            let rows: [Row]
            if let tenantID {
                rows = try Row.fetchAll(
                    db,
                    sql: "SELECT \(ClientRule.columns) FROM client_rules WHERE tenant_id = ? ORDER BY id",
                    arguments: [tenantID]
                )
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT \(ClientRule.columns) FROM client_rules ORDER BY id")
            }
            return try rows.map(ClientRule.init(row:))
        }
    }

    /// The rules whose fingerprint is `fingerprint` (a pinned certificate's or a CA's), ordered by
    /// id: what the TLS layer looks up for a presented certificate chain.
    ///
    /// - Parameter fingerprint: Lower-case hex SHA-256 of a certificate's DER.
    /// - Returns: The matching rules, of any tenant.
    public func clients(fingerprint: String) async throws -> [ClientRule] {
        try await self.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT \(ClientRule.columns) FROM client_rules WHERE fingerprint = ? ORDER BY id",
                arguments: [fingerprint]
            ).map(ClientRule.init(row:))
        }
    }
}
