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
public import KMIPServer
public import KeyStore
public import RootKeys

/// Keystorm's control plane: what operators do to tenants, client rules, keys and root keys.
///
/// The CLI uses it on a data directory directly; the running server wraps it in a
/// ``ServerControl`` for the admin API. Every operation throws ``ControlError`` only.
///
/// ## Topics
/// - Tenants: ``tenants()``, ``tenant(_:)``, ``createTenant(id:displayName:rootKeyID:)``,
///   ``requireProvider()``
/// - Client rules: ``clients(tenant:)``, ``trustCA(pem:tenant:label:)``, ``pin(pem:tenant:label:)``,
///   ``issue(name:tenant:)``, ``signCSR(pem:tenant:label:)``, ``removeClient(id:)``
/// - Keys: ``keys(tenant:limit:)``, ``revokeKey(tenant:uniqueIdentifier:compromised:)``,
///   ``destroyKey(tenant:uniqueIdentifier:)``
/// - Root keys: ``rootKeyStatus(tenant:)``, ``rotateRootKey(tenant:)``, ``deleteRootKey(tenant:)``
public struct ControlPlane: Sendable {
    public let store: any KeyStore
    public let rootKeys: any RootKeyService
    public let directory: DataDirectoryLayout
    /// Runs Revoke and Destroy as KMIP operations (same state rules, same audit log as a
    /// client's); `nil` makes one over the store with the data directory's audit log when needed.
    let executor: BatchExecutor?

    /// - Parameters:
    ///   - store: The key store.
    ///   - rootKeys: The configured root-key service.
    ///   - directory: The data directory (client certificates, the client CA, the audit log).
    ///   - executor: The running server's executor, so that its cache is purged; `nil` outside it.
    public init(
        store: any KeyStore,
        rootKeys: any RootKeyService,
        directory: DataDirectoryLayout,
        executor: BatchExecutor? = nil
    ) {
        self.store = store
        self.rootKeys = rootKeys
        self.directory = directory
        self.executor = executor
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    /// Runs `body`, turning whatever it throws into a ``ControlError`` (classified by type and
    /// code) that names `operation`.
    func mapped<T>(_ operation: String, _ body: () async throws -> T) async throws(ControlError) -> T {
        do {
            return try await body()
        } catch let error as ControlError {
            throw error
        } catch {
            throw ControlError.classifying(error, operation: operation, dataDirectory: self.directory.path)
        }
    }

    // MARK: Tenants

    /// A tenant and how many client rules it has.
    public struct TenantSummary: Hashable, Sendable {
        public var tenant: Tenant
        public var clientRules: Int
    }

    /// Every tenant, ordered by id.
    public func tenants() async throws(ControlError) -> [TenantSummary] {
        try await self.mapped("listing tenants") {
            let rules = try await self.store.clients(tenantID: nil)
            return try await self.store.tenants().map { tenant in
                TenantSummary(tenant: tenant, clientRules: rules.filter { $0.tenantID == tenant.id }.count)
            }
        }
    }

    /// The tenant `id`.
    ///
    /// - Throws: ``ControlError/notFound`` when there is none.
    public func tenant(_ id: String) async throws(ControlError) -> Tenant {
        let tenant = try await self.mapped("reading tenant '\(id)'") { try await self.store.tenant(id: id) }
        guard let tenant else { throw ControlError(.notFound, "no tenant '\(id)'; see 'keystorm tenants list'") }
        return tenant
    }

    /// The tenant `id`, whose root key must be in the configured root-key service.
    ///
    /// - Throws: ``ControlError/notFound``, or ``ControlError/providerMismatch`` naming both services.
    public func servedTenant(_ id: String) async throws(ControlError) -> Tenant {
        let tenant = try await self.tenant(id)
        guard tenant.rootKey.provider == self.rootKeys.providerName else {
            throw ControlError(
                .providerMismatch,
                "the root key of tenant '\(id)' is in the \(tenant.rootKey.provider) root-key service, but root-keys is \(self.rootKeys.providerName): use the configuration the tenant was created with"
            )
        }
        return tenant
    }

    /// Creates a tenant with a fresh root key, or with the existing root key `rootKeyID` (which
    /// must be active in the service; the tenant starts at its current version).
    ///
    /// - Throws: ``ControlError/invalidName``, ``ControlError/alreadyExists``,
    ///   ``ControlError/providerMismatch`` when the store's tenants use another root-key service.
    public func createTenant(
        id: String,
        displayName: String?,
        rootKeyID: String? = nil
    ) async throws(ControlError) -> Tenant {
        if let problem = NameRules.problem(id, kind: "tenant id") { throw ControlError(.invalidName, problem) }
        try await self.requireProvider(creating: id)
        return try await self.mapped("creating tenant '\(id)'") {
            if try await self.store.tenant(id: id) != nil {
                throw ControlError(.alreadyExists, "tenant '\(id)' already exists")
            }
            let handle: RootKeyHandle
            if let rootKeyID {
                let info = try await self.rootKeys.info(rootKeyID: rootKeyID)
                guard info.state == .active else {
                    throw ControlError(
                        info.state == .disabled ? .rootKeyDisabled : .rootKeyDeleted,
                        "root key \(rootKeyID) is \(info.state) in \(self.rootKeys.providerName); a tenant needs an active one"
                    )
                }
                handle = RootKeyHandle(keyID: info.keyID, version: max(1, info.currentVersion))
            } else {
                handle = try await self.rootKeys.createRootKey(label: "tenant \(id)")
            }
            let tenant = Tenant(
                id: id,
                displayName: displayName ?? id,
                rootKey: RootKeyReference(
                    provider: self.rootKeys.providerName,
                    keyID: handle.keyID,
                    version: handle.version
                ),
                createdAt: Self.now()
            )
            try await self.store.createTenant(tenant)
            return tenant
        }
    }

    /// Checks that every tenant's root key is in the configured root-key service: a server or a
    /// command with another `root-keys` would make root keys no server can use.
    ///
    /// - Throws: ``ControlError/providerMismatch`` naming both services and the tenants.
    public func requireProvider() async throws(ControlError) {
        try await self.requireProvider(creating: nil)
    }

    private func requireProvider(creating id: String?) async throws(ControlError) {
        let provider = self.rootKeys.providerName
        let others = try await self.mapped("reading tenants") { try await self.store.tenants() }
            .filter { $0.rootKey.provider != provider }
        guard let first = others.first else { return }
        let names = others.prefix(5).map { "'\($0.id)'" }.joined(separator: ", ") + (others.count > 5 ? ", ..." : "")
        let theirs = "the root keys of tenant \(names) are in the \(first.rootKey.provider) root-key service"
        let fix =
            "set root-keys = \"\(first.rootKey.provider)\" (--root-keys or --config) as the tenants were created with"
        if let id {
            throw ControlError(
                .providerMismatch,
                "cannot create tenant '\(id)' with a \(provider) root key: \(theirs); \(fix)"
            )
        }
        throw ControlError(.providerMismatch, "root-keys is \(provider), but \(theirs): \(fix)")
    }
}
