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
    // MARK: Tenants

    public func createTenant(_ tenant: Tenant) async throws {
        try NameRules.validate(tenant.id, kind: "tenant id")
        let meaning = StorageErrorMapping.Meaning(duplicate: "tenant \(tenant.id) already exists")
        _ = try await self.rows(Self.insertQuery(tenant), meaning) { _ in () }
    }

    /// The `INSERT` of one tenant (also what a restore writes).
    static func insertQuery(_ tenant: Tenant) -> PostgresQuery {
        """
        INSERT INTO tenants (id, display_name, root_key_provider, root_key_id, root_key_version, created_at)
        VALUES (\(tenant.id), \(tenant.displayName), \(tenant.rootKey.provider), \(tenant.rootKey.keyID),
            \(Int64(tenant.rootKey.version)), \(tenant.createdAt))
        """
    }

    public func tenant(id: String) async throws -> Tenant? {
        try await self.rows(
            "SELECT \(unescaped: Tenant.postgresColumns) FROM tenants WHERE id = \(id)",
            decode: Tenant.init(postgresRow:)
        ).first
    }

    public func tenants() async throws -> [Tenant] {
        try await self.rows(
            "SELECT \(unescaped: Tenant.postgresColumns) FROM tenants ORDER BY id COLLATE \"C\"",
            decode: Tenant.init(postgresRow:)
        )
    }

    /// Replaces a tenant's display name and root key reference; its creation time stays.
    ///
    /// - Throws: ``KeyStoreError/notFound`` when the tenant does not exist.
    public func updateTenant(_ tenant: Tenant) async throws {
        let updated: [Bool] = try await self.rows(
            """
            UPDATE tenants SET display_name = \(tenant.displayName), root_key_provider = \(tenant.rootKey.provider),
                root_key_id = \(tenant.rootKey.keyID), root_key_version = \(Int64(tenant.rootKey.version))
            WHERE id = \(tenant.id) RETURNING id
            """
        ) { _ in true }
        if updated.isEmpty { throw KeyStoreError(.notFound, reason: "tenant \(tenant.id) does not exist") }
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
        _ = try await self.rows(Self.insertQuery(client), meaning) { _ in () }
    }

    /// The `INSERT` of one client rule (also what a restore writes).
    static func insertQuery(_ client: ClientRule) -> PostgresQuery {
        """
        INSERT INTO client_rules (id, tenant_id, kind, fingerprint, certificate_pem, label, created_at)
        VALUES (\(client.id), \(client.tenantID), \(client.kind.rawValue), \(client.fingerprint),
            \(client.certificatePEM), \(client.label), \(client.createdAt))
        """
    }

    public func removeClient(id: String) async throws -> Bool {
        try await !self.rows("DELETE FROM client_rules WHERE id = \(id) RETURNING id") { _ in () }.isEmpty
    }

    /// Every rule ordered by id, or those of `tenantID` ordered by id.
    public func clients(tenantID: String?) async throws -> [ClientRule] {
        if let tenantID {
            return try await self.rows(
                "SELECT \(unescaped: ClientRule.postgresColumns) FROM client_rules WHERE tenant_id = \(tenantID) ORDER BY id COLLATE \"C\"",
                decode: ClientRule.init(postgresRow:)
            )
        }
        return try await self.rows(
            "SELECT \(unescaped: ClientRule.postgresColumns) FROM client_rules ORDER BY id COLLATE \"C\"",
            decode: ClientRule.init(postgresRow:)
        )
    }

    /// The rules whose fingerprint is `fingerprint` (a pinned certificate's or a CA's), ordered by
    /// id: what the TLS layer looks up for a presented certificate chain.
    public func clients(fingerprint: String) async throws -> [ClientRule] {
        try await self.rows(
            "SELECT \(unescaped: ClientRule.postgresColumns) FROM client_rules WHERE fingerprint = \(fingerprint) ORDER BY id COLLATE \"C\"",
            decode: ClientRule.init(postgresRow:)
        )
    }
}

extension Tenant {
    static let postgresColumns = "id, display_name, root_key_provider, root_key_id, root_key_version, created_at"

    init(postgresRow row: PostgresRow) throws {
        let (id, displayName, provider, keyID, version, createdAt) = try row.decode(
            (String, String, String, String, Int64, Int64).self
        )
        guard let version = Int(exactly: version) else {
            throw KeyStoreError(.storage, reason: "tenants.root_key_version is out of range")
        }
        self.init(
            id: id,
            displayName: displayName,
            rootKey: RootKeyReference(provider: provider, keyID: keyID, version: version),
            createdAt: createdAt
        )
    }
}

extension ClientRule {
    static let postgresColumns = "id, tenant_id, kind, fingerprint, certificate_pem, label, created_at"

    init(postgresRow row: PostgresRow) throws {
        let (id, tenantID, kind, fingerprint, pem, label, createdAt) = try row.decode(
            (String, String, String, String, String, String, Int64).self
        )
        guard let kind = Kind(rawValue: kind) else {
            throw KeyStoreError(.storage, reason: "client_rules.kind is not a known kind")
        }
        self.init(
            id: id,
            tenantID: tenantID,
            kind: kind,
            fingerprint: fingerprint,
            certificatePEM: pem,
            label: label,
            createdAt: createdAt
        )
    }
}
#endif
