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

import AdminHTTP
import ArgumentParser
import Foundation
import KMIPCodec
import KMIPModel
import KMIPServer
import KeyStore
import RootKeys
import Synchronization

/// The admin API of the running server: the logic of the `tenants`, `clients`, `root-key` and
/// `keys` commands, on the server's own store, root-key service, key cache and KMIP executor, so
/// that a revoke or destroy purges the server's cache at once and a prewarm fills it.
final class ServeAdminOperations: AdminOperations {
    let store: any KeyStore
    let rootKeys: any RootKeyService
    let directory: DataDirectory
    let keyAccess: KeyAccess
    let executor: BatchExecutor
    /// The audit log: while it cannot be written the server is not ready.
    let audit: AuditLogFile?
    /// The data disk's reserve: while free space is below it the server is not ready.
    let reserve: StorageReserve?
    /// The last readiness answer and when it was computed: probes every second cost one
    /// root-key call per tenant at most once a second.
    private let readinessCache = Mutex<(answer: AdminReadiness, at: ContinuousClock.Instant)?>(nil)
    /// Called after a client rule was removed: takes it out of force and closes its connections.
    let clientRuleRemoved: @Sendable (String) -> Void
    /// Called after a tenant's root key was deleted: closes the tenant's connections.
    let rootKeyDeleted: @Sendable (String) -> Void

    init(
        store: any KeyStore,
        rootKeys: any RootKeyService,
        directory: DataDirectory,
        keyAccess: KeyAccess,
        executor: BatchExecutor,
        audit: AuditLogFile? = nil,
        reserve: StorageReserve? = nil,
        clientRuleRemoved: @escaping @Sendable (String) -> Void = { _ in },
        rootKeyDeleted: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.store = store
        self.rootKeys = rootKeys
        self.directory = directory
        self.keyAccess = keyAccess
        self.executor = executor
        self.audit = audit
        self.reserve = reserve
        self.clientRuleRemoved = clientRuleRemoved
        self.rootKeyDeleted = rootKeyDeleted
    }

    private var admin: TenantAdmin {
        TenantAdmin(store: self.store, rootKeys: self.rootKeys, dataDirectory: self.directory)
    }

    // MARK: Tenants and clients

    func tenants() async throws -> [AdminTenant] {
        try await Self.mapped {
            let rules = try await self.store.clients(tenantID: nil)
            return try await self.store.tenants().map { tenant in
                Self.model(tenant, rules: rules.filter { $0.tenantID == tenant.id }.count)
            }
        }
    }

    func createTenant(_ request: AdminCreateTenant) async throws -> AdminTenant {
        try await Self.mapped {
            Self.model(try await self.admin.createTenant(id: request.id, displayName: request.displayName), rules: 0)
        }
    }

    func clients(tenant: String?) async throws -> [AdminClientRule] {
        try await Self.mapped {
            if let tenant { try await self.admin.requireTenant(tenant) }
            return try await self.store.clients(tenantID: tenant).map(Self.model)
        }
    }

    func addClient(_ request: AdminAddClient) async throws -> [AdminClientRule] {
        try await Self.mapped {
            switch request.kind {
            case "pinned":
                return [
                    Self.model(try await self.admin.pin(pem: request.pem, tenant: request.tenant, label: request.label))
                ]
            case "ca":
                return try await self.admin.trustCA(pem: request.pem, tenant: request.tenant, label: request.label).map(
                    Self.model
                )
            default:
                throw AdminAPIError(
                    .badRequest,
                    "kind is 'pinned' (one client certificate) or 'ca' (a CA bundle), not '\(request.kind)'"
                )
            }
        }
    }

    func removeClient(id: String) async throws {
        try await Self.mapped {
            guard try await self.store.removeClient(id: id) else {
                throw AdminAPIError(.notFound, "no client rule \(id)")
            }
            self.clientRuleRemoved(id)
        }
    }

    // MARK: Root keys

    func rootKeyStatus(tenant: String) async throws -> AdminRootKeyStatus {
        try await Self.mapped { try await self.status(self.tenant(tenant)) }
    }

    func rotateRootKey(tenant id: String) async throws -> AdminRootKeyStatus {
        try await Self.mapped {
            let tenant = try await self.tenant(id)
            let handle = try await self.rootKeys.rotate(rootKeyID: tenant.rootKey.keyID)
            var updated = try await self.store.tenant(id: id) ?? tenant
            updated.rootKey.version = max(updated.rootKey.version, handle.version)
            try await self.store.updateTenant(updated)
            Log.info("admin API: rotated the root key of tenant \(id) to version \(updated.rootKey.version)")
            return try await self.status(updated)
        }
    }

    func deleteRootKey(tenant id: String) async throws -> AdminRootKeyStatus {
        try await Self.mapped {
            let tenant = try await self.tenant(id)
            try await self.rootKeys.delete(rootKeyID: tenant.rootKey.keyID)
            self.keyAccess.purge(tenantID: id)
            self.rootKeyDeleted(id)
            Log.info(
                "admin API: deleted root key \(tenant.rootKey.keyID) of tenant \(id): its keys are crypto-shredded"
            )
            return try await self.status(tenant)
        }
    }

    private func tenant(_ id: String) async throws -> Tenant {
        guard let tenant = try await self.store.tenant(id: id) else {
            throw AdminAPIError(.notFound, "no tenant '\(id)'")
        }
        guard tenant.rootKey.provider == self.rootKeys.providerName else {
            throw AdminAPIError(
                .conflict,
                "the root key of tenant '\(id)' is in the \(tenant.rootKey.provider) service, but this server uses \(self.rootKeys.providerName)"
            )
        }
        return tenant
    }

    private func status(_ tenant: Tenant) async throws -> AdminRootKeyStatus {
        var state = "deleted"
        var version = tenant.rootKey.version
        do {
            let info = try await self.rootKeys.info(rootKeyID: tenant.rootKey.keyID)
            state = info.state.rawValue
            version = info.currentVersion
        } catch RootKeyError.notFound {
            // The service does not know it: deleted.
        }
        let older = try await RootKeyCensus.count(self.store, tenantID: tenant.id).olderThan(tenant.rootKey.version)
        return AdminRootKeyStatus(
            tenant: tenant.id,
            provider: tenant.rootKey.provider,
            keyID: tenant.rootKey.keyID,
            state: state,
            currentVersion: version,
            keysOnOlderVersions: older
        )
    }

    // MARK: Keys

    func keys(tenant: String, limit: Int) async throws -> AdminKeyList {
        try await Self.mapped {
            try await self.admin.requireTenant(tenant)
            let page = try await self.store.objects(tenantID: tenant, matching: ObjectQuery(limit: limit))
            let keys = page.objects.map { object in
                AdminKey(
                    uniqueIdentifier: object.uniqueIdentifier,
                    objectType: ObjectType(rawValue: object.objectType).name,
                    state: State(rawValue: object.state).name,
                    rootKeyVersion: object.wrappedKey?.rootKeyVersion,
                    createdAt: object.createdAt,
                    names: object.names
                )
            }
            return AdminKeyList(keys: keys, total: page.totalMatches)
        }
    }

    func revokeKey(tenant: String, uniqueIdentifier: String, compromised: Bool) async throws {
        let reason = RevocationReason(
            code: compromised ? .keyCompromise : .cessationOfOperation,
            message: "revoked by operator"
        )
        try await self.perform(
            RevokeRequest(uniqueIdentifier: .text(uniqueIdentifier), revocationReason: reason),
            tenant: tenant
        )
    }

    func destroyKey(tenant: String, uniqueIdentifier: String) async throws {
        try await self.perform(DestroyRequest(uniqueIdentifier: .text(uniqueIdentifier)), tenant: tenant)
    }

    func prewarm(tenant: String, recent: Int) async throws -> AdminPrewarmResult {
        try await Self.mapped {
            try await self.admin.requireTenant(tenant)
            let result = try await Prewarmer(store: self.store, keyAccess: self.keyAccess).prewarm(
                tenant: tenant,
                recent: recent
            )
            Log.info(
                "admin API: prewarmed \(result.warmed) of \(result.considered) keys of tenant \(tenant) (\(result.failed) failed)"
            )
            return AdminPrewarmResult(tenant: tenant, unwrapped: result.warmed, failed: result.failed)
        }
    }

    /// Runs one KMIP operation as the client `operator` of `tenant` through the server's executor:
    /// the same state rules and audit log as a client's request, and the server's cache purge.
    private func perform<P: KMIPRequestPayload>(_ payload: P, tenant: String) async throws {
        try await Self.mapped { try await self.admin.requireTenant(tenant) }
        let request = RequestMessage(version: .v1_4, batchItems: [RequestBatchItem(payload)])
        let bytes = await self.executor.process(
            request.encoded(),
            client: ClientIdentity(tenantID: tenant, fingerprint: "operator")
        )
        let response = try ResponseMessage(decoding: bytes)
        guard let item = response.batchItems.first else {
            throw AdminAPIError(.unavailable, "the server gave no answer")
        }
        guard item.resultStatus == .success else {
            let message = "\(P.operation.name) failed: \(item.resultReason?.name ?? "?"): \(item.resultMessage ?? "")"
            switch item.resultReason {
            case .itemNotFound?: throw AdminAPIError(.notFound, message)
            case .wrongKeyLifecycleState?, .permissionDenied?: throw AdminAPIError(.conflict, message)
            default: throw AdminAPIError(.badRequest, message)
            }
        }
    }

    // MARK: Readiness

    func readiness() async -> AdminReadiness {
        let now = ContinuousClock.now
        if let cached = self.readinessCache.withLock({ $0 }), now - cached.at < .seconds(1) { return cached.answer }
        let answer = await self.checkReadiness()
        self.readinessCache.withLock { $0 = (answer, ContinuousClock.now) }
        return answer
    }

    /// The audit log must be writable and the data disk above its reserve; the store must answer,
    /// and the root-key service must answer for every tenant's root key
    /// (that a key is deleted or disabled is an answer), each within 3 s.
    private func checkReadiness() async -> AdminReadiness {
        // Fail closed: an operation that cannot be audited is refused, so the server is not ready.
        if let failure = await self.audit?.recheck() {
            return .notReady("the audit log cannot be written (\(failure)): every KMIP operation is refused")
        }
        if let refusal = self.reserve?.check() {
            return .notReady(refusal)
        }
        let tenants: [Tenant]
        do {
            tenants = try await Self.within(.seconds(3)) { try await self.store.tenants() }
        } catch {
            return .notReady("the key store does not answer: \(error)")
        }
        for tenant in tenants where tenant.rootKey.provider == self.rootKeys.providerName {
            do {
                _ = try await Self.within(.seconds(3)) { try await self.rootKeys.info(rootKeyID: tenant.rootKey.keyID) }
            } catch RootKeyError.notFound, RootKeyError.deleted, RootKeyError.disabled {
                continue
            } catch {
                return .notReady(
                    "the \(self.rootKeys.providerName) root-key service does not answer for the root key of tenant \(tenant.id): \(error)"
                )
            }
        }
        return .ready
    }

    /// `body`'s result, or a timeout error after `limit`.
    private static func within<T: Sendable>(
        _ limit: Duration,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let value = try await group.next() ?? nil else {
                throw AdminAPIError(.unavailable, "no answer within \(limit)")
            }
            return value
        }
    }

    // MARK: Mapping

    /// Runs `body`, turning the CLI's validation errors into HTTP statuses.
    private static func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as AdminAPIError {
            throw error
        } catch let error as SettingsError {
            throw Self.classify(error.description)
        } catch let error as ValidationError {
            throw Self.classify(error.message)
        } catch let error as KeyStoreError {
            switch error.code {
            case .invalidName: throw AdminAPIError(.badRequest, error.reason)
            case .alreadyExists: throw AdminAPIError(.conflict, error.reason)
            case .notFound: throw AdminAPIError(.notFound, error.reason)
            default: throw error
            }
        }
    }

    private static func classify(_ message: String) -> AdminAPIError {
        if message.hasPrefix("no tenant") || message.hasPrefix("no client") { return AdminAPIError(.notFound, message) }
        if message.contains("already") { return AdminAPIError(.conflict, message) }
        return AdminAPIError(.badRequest, message)
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
}
