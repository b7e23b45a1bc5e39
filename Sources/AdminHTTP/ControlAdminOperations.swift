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

public import Hummingbird
import KeyStore
public import KeystormControl
import RootKeys

/// The admin API over the control plane of the running server.
public struct ControlAdminOperations: AdminOperations {
    let server: ServerControl

    public init(server: ServerControl) {
        self.server = server
    }

    public func tenants() async throws -> [AdminTenant] {
        try await self.server.tenants().map { Self.model($0.tenant, rules: $0.clientRules) }
    }

    public func createTenant(_ request: AdminCreateTenant) async throws -> AdminTenant {
        Self.model(try await self.server.createTenant(id: request.id, displayName: request.displayName), rules: 0)
    }

    public func clients(tenant: String?) async throws -> [AdminClientRule] {
        try await self.server.clients(tenant: tenant).map(Self.model)
    }

    public func addClient(_ request: AdminAddClient) async throws -> [AdminClientRule] {
        let ca: Bool
        switch request.kind {
        case "pinned": ca = false
        case "ca": ca = true
        default:
            throw ControlError(
                .badRequest,
                "kind is 'pinned' (one client certificate) or 'ca' (a CA bundle), not '\(request.kind)'"
            )
        }
        return try await self.server.addClient(ca: ca, pem: request.pem, tenant: request.tenant, label: request.label)
            .map(Self.model)
    }

    public func issueClient(_ request: AdminIssueClient) async throws -> AdminIssuedClient {
        let issued = try await self.server.issueClient(name: request.name, tenant: request.tenant)
        return AdminIssuedClient(
            rule: Self.model(issued.rule),
            certificatePath: issued.certificatePath,
            keyPath: issued.keyPath
        )
    }

    public func signCSR(_ request: AdminSignCSR) async throws -> AdminSignedCSR {
        let signed = try await self.server.signCSR(pem: request.csr, tenant: request.tenant, label: request.label)
        return AdminSignedCSR(
            rule: Self.model(signed.rule),
            subject: signed.subject,
            certificate: signed.certificatePEM
        )
    }

    public func removeClient(id: String) async throws {
        try await self.server.removeClient(id: id)
    }

    public func rootKeyStatus(tenant: String) async throws -> AdminRootKeyStatus {
        Self.model(try await self.server.rootKeyStatus(tenant: tenant))
    }

    public func rotateRootKey(tenant: String) async throws -> AdminRootKeyStatus {
        Self.model(try await self.server.rotateRootKey(tenant: tenant))
    }

    public func deleteRootKey(tenant: String) async throws -> AdminRootKeyStatus {
        Self.model(try await self.server.deleteRootKey(tenant: tenant))
    }

    public func keys(tenant: String, limit: Int) async throws -> AdminKeyList {
        let listing = try await self.server.keys(tenant: tenant, limit: limit)
        let keys = listing.keys.map { key in
            AdminKey(
                uniqueIdentifier: key.uniqueIdentifier,
                objectType: key.objectType,
                state: key.state,
                rootKeyVersion: key.rootKeyVersion,
                createdAt: key.createdAt,
                names: key.names
            )
        }
        return AdminKeyList(keys: keys, total: listing.total)
    }

    public func revokeKey(tenant: String, uniqueIdentifier: String, compromised: Bool) async throws {
        try await self.server.revokeKey(tenant: tenant, uniqueIdentifier: uniqueIdentifier, compromised: compromised)
    }

    public func destroyKey(tenant: String, uniqueIdentifier: String) async throws {
        try await self.server.destroyKey(tenant: tenant, uniqueIdentifier: uniqueIdentifier)
    }

    public func prewarm(tenant: String, recent: Int) async throws -> AdminPrewarmResult {
        let result = try await self.server.prewarm(tenant: tenant, recent: recent)
        return AdminPrewarmResult(tenant: tenant, unwrapped: result.warmed, failed: result.failed)
    }

    public func cluster() async throws -> ClusterStatus {
        try await self.server.cluster()
    }

    public func readiness() async -> AdminReadiness {
        switch await self.server.readiness() {
        case .ready: .ready
        case .notReady(let reason): .notReady(reason)
        }
    }

    static func model(_ tenant: Tenant, rules: Int) -> AdminTenant {
        AdminTenant(
            id: tenant.id,
            displayName: tenant.displayName,
            rootKeyProvider: tenant.rootKey.provider,
            rootKeyID: tenant.rootKey.keyID,
            rootKeyVersion: tenant.rootKey.version,
            clientRules: rules,
            createdAt: tenant.createdAt
        )
    }

    static func model(_ rule: ClientRule) -> AdminClientRule {
        AdminClientRule(
            id: rule.id,
            tenant: rule.tenantID,
            kind: rule.kind.rawValue,
            fingerprint: rule.fingerprint,
            label: rule.label,
            createdAt: rule.createdAt
        )
    }

    static func model(_ status: ControlPlane.RootKeyStatus) -> AdminRootKeyStatus {
        AdminRootKeyStatus(
            tenant: status.tenant,
            provider: status.provider,
            keyID: status.keyID,
            state: status.state.rawValue,
            currentVersion: status.currentVersion,
            keysOnOlderVersions: status.keysOnOlderVersions
        )
    }
}

extension AdminRoutes {
    /// The HTTP status of a control-plane failure, chosen by its code alone.
    ///
    /// - Parameter code: The ``ControlError`` code.
    /// - Returns: 400 for a bad name or request, 403 for a file the server may not touch, 404,
    ///   409 for what exists or what the state (or the root-key service) forbids, 507 for a full
    ///   disk, 503 when the store or the root-key service does not answer, 500 otherwise.
    public static func status(for code: ControlError.Code) -> HTTPResponse.Status {
        switch code {
        case .invalidName, .badRequest: .badRequest
        case .notFound: .notFound
        case .alreadyExists, .conflict, .rootKeyDeleted, .rootKeyDisabled, .providerMismatch: .conflict
        case .permissionDenied: .forbidden
        case .diskFull: .init(code: 507, reasonPhrase: "Insufficient Storage")
        case .storeUnavailable, .rootKeyServiceUnavailable: .serviceUnavailable
        default: .internalServerError
        }
    }
}
