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

public import KMIPServer
public import KeyStore
public import RootKeys
import Synchronization

/// The control plane inside the running server, behind the admin API: the ``ControlPlane`` over
/// the server's own store, root-key service, key cache and KMIP executor, so that a revoke or
/// destroy purges the server's cache at once, a prewarm fills it, and a new client rule is in
/// force before the call returns.
public final class ServerControl: Sendable {
    /// What the server does when the control plane changed something it holds in memory.
    public struct Hooks: Sendable {
        /// Reloads the client rules into the TLS trust policy and the authorizer; called after a
        /// rule was added, before the call returns.
        public var clientRulesChanged: @Sendable () async throws -> Void
        /// Takes a removed rule out of force at once and closes its connections.
        public var clientRuleRemoved: @Sendable (String) -> Void
        /// Closes the connections of a tenant whose root key was deleted.
        public var rootKeyDeleted: @Sendable (String) -> Void
        /// Where operator actions are logged.
        public var log: @Sendable (String) -> Void

        public init(
            clientRulesChanged: @escaping @Sendable () async throws -> Void = {},
            clientRuleRemoved: @escaping @Sendable (String) -> Void = { _ in },
            rootKeyDeleted: @escaping @Sendable (String) -> Void = { _ in },
            log: @escaping @Sendable (String) -> Void = { _ in }
        ) {
            self.clientRulesChanged = clientRulesChanged
            self.clientRuleRemoved = clientRuleRemoved
            self.rootKeyDeleted = rootKeyDeleted
            self.log = log
        }
    }

    /// Whether the server can serve, and why not.
    public enum Readiness: Hashable, Sendable {
        case ready
        case notReady(String)
    }

    public let control: ControlPlane
    let keyAccess: KeyAccess
    /// The audit log: while it cannot be written the server is not ready.
    let audit: AuditLogFile?
    /// The data disk's reserve: while free space is below it the server is not ready.
    let reserve: StorageReserve?
    let hooks: Hooks
    /// The last readiness answer and when it was computed: probes every second cost one
    /// root-key call per tenant at most once a second.
    private let readinessCache = Mutex<(answer: Readiness, at: ContinuousClock.Instant)?>(nil)

    public init(
        control: ControlPlane,
        keyAccess: KeyAccess,
        audit: AuditLogFile? = nil,
        reserve: StorageReserve? = nil,
        hooks: Hooks = Hooks()
    ) {
        self.control = control
        self.keyAccess = keyAccess
        self.audit = audit
        self.reserve = reserve
        self.hooks = hooks
    }

    // MARK: Tenants and clients

    public func tenants() async throws(ControlError) -> [ControlPlane.TenantSummary] {
        try await self.control.tenants()
    }

    public func createTenant(id: String, displayName: String?) async throws(ControlError) -> Tenant {
        let tenant = try await self.control.createTenant(id: id, displayName: displayName)
        self.hooks.log(
            "admin API: created tenant \(tenant.id) (root key \(tenant.rootKey.provider):\(tenant.rootKey.keyID))"
        )
        return tenant
    }

    public func clients(tenant: String?) async throws(ControlError) -> [ClientRule] {
        try await self.control.clients(tenant: tenant)
    }

    /// Trusts a CA bundle (`ca`) or pins one certificate; the rules are in force on return.
    public func addClient(
        ca: Bool,
        pem: String,
        tenant: String,
        label: String?
    ) async throws(ControlError) -> [ClientRule] {
        let rules: [ClientRule]
        if ca {
            rules = try await self.control.trustCA(pem: pem, tenant: tenant, label: label)
        } else {
            rules = [try await self.control.pin(pem: pem, tenant: tenant, label: label)]
        }
        try await self.applyRules()
        return rules
    }

    /// Issues a client certificate and key into the data directory and pins it; in force on return.
    public func issueClient(name: String, tenant: String) async throws(ControlError) -> ControlPlane.IssuedClient {
        let issued = try await self.control.issue(name: name, tenant: tenant)
        try await self.applyRules()
        return issued
    }

    /// Signs a CSR and pins the certificate; in force on return.
    public func signCSR(
        pem: String,
        tenant: String,
        label: String?
    ) async throws(ControlError) -> ControlPlane.SignedClient {
        let signed = try await self.control.signCSR(pem: pem, tenant: tenant, label: label)
        try await self.applyRules()
        return signed
    }

    public func removeClient(id: String) async throws(ControlError) {
        try await self.control.removeClient(id: id)
        self.hooks.clientRuleRemoved(id)
    }

    private func applyRules() async throws(ControlError) {
        do {
            try await self.hooks.clientRulesChanged()
        } catch {
            throw ControlError.classifying(error, operation: "applying the new client rules (the rule is stored)")
        }
    }

    // MARK: Root keys

    public func rootKeyStatus(tenant: String) async throws(ControlError) -> ControlPlane.RootKeyStatus {
        try await self.control.rootKeyStatus(tenant: tenant)
    }

    public func rotateRootKey(tenant: String) async throws(ControlError) -> ControlPlane.RootKeyStatus {
        let status = try await self.control.rotateRootKey(tenant: tenant)
        self.hooks.log("admin API: rotated the root key of tenant \(tenant) to version \(status.recordedVersion)")
        return status
    }

    public func deleteRootKey(tenant: String) async throws(ControlError) -> ControlPlane.RootKeyStatus {
        let status = try await self.control.deleteRootKey(tenant: tenant)
        self.keyAccess.purge(tenantID: tenant)
        self.hooks.rootKeyDeleted(tenant)
        self.hooks.log("admin API: deleted root key \(status.keyID) of tenant \(tenant): its keys are crypto-shredded")
        return status
    }

    // MARK: Keys

    public func keys(tenant: String, limit: Int) async throws(ControlError) -> ControlPlane.KeyListing {
        try await self.control.keys(tenant: tenant, limit: limit)
    }

    public func revokeKey(tenant: String, uniqueIdentifier: String, compromised: Bool) async throws(ControlError) {
        try await self.control.revokeKey(tenant: tenant, uniqueIdentifier: uniqueIdentifier, compromised: compromised)
    }

    public func destroyKey(tenant: String, uniqueIdentifier: String) async throws(ControlError) {
        try await self.control.destroyKey(tenant: tenant, uniqueIdentifier: uniqueIdentifier)
    }

    /// What a prewarm did.
    public struct PrewarmSummary: Hashable, Sendable {
        /// Keys looked at (the most recent Pre-Active and Active keys with material).
        public var considered: Int
        /// Keys now in the cache.
        public var warmed: Int
        /// Keys whose unwrap failed.
        public var failed: Int
    }

    /// Unwraps the tenant's `recent` most recent Pre-Active and Active keys into the key cache.
    public func prewarm(tenant: String, recent: Int) async throws(ControlError) -> PrewarmSummary {
        _ = try await self.control.tenant(tenant)
        let result = try await self.control.mapped("prewarming the keys of tenant '\(tenant)'") {
            try await Prewarmer(store: self.control.store, keyAccess: self.keyAccess).prewarm(
                tenant: tenant,
                recent: recent
            )
        }
        self.hooks.log(
            "admin API: prewarmed \(result.warmed) of \(result.considered) keys of tenant \(tenant) (\(result.failed) failed)"
        )
        return PrewarmSummary(considered: result.considered, warmed: result.warmed, failed: result.failed)
    }

    // MARK: Cluster

    /// The store and the nodes that share it.
    public func cluster() async throws(ControlError) -> ClusterStatus {
        try await self.control.mapped("reading the cluster status") {
            try await ClusterRegistry.status(store: self.control.store)
        }
    }

    // MARK: Readiness

    /// Whether the server can serve; computed at most once a second.
    public func readiness() async -> Readiness {
        let now = ContinuousClock.now
        if let cached = self.readinessCache.withLock({ $0 }), now - cached.at < .seconds(1) { return cached.answer }
        let answer = await self.checkReadiness()
        self.readinessCache.withLock { $0 = (answer, ContinuousClock.now) }
        return answer
    }

    /// The audit log must be writable and the data disk above its reserve; the store must answer;
    /// every tenant's root key must be in this server's root-key service, and that service must
    /// answer for it (that a key is deleted or disabled is an answer), each within 3 s.
    private func checkReadiness() async -> Readiness {
        // Fail closed: an operation that cannot be audited is refused, so the server is not ready.
        if let failure = await self.audit?.recheck() {
            return .notReady("the audit log cannot be written (\(failure)): every KMIP operation is refused")
        }
        if let refusal = self.reserve?.check() {
            return .notReady(refusal)
        }
        let rootKeys = self.control.rootKeys
        let tenants: [Tenant]
        do {
            tenants = try await Self.within(.seconds(3)) { try await self.control.store.tenants() }
        } catch {
            return .notReady("the key store does not answer: \(ControlError.classifying(error))")
        }
        do {
            try await Self.within(.seconds(3)) { try await self.control.store.requireWritable() }
        } catch {
            return .notReady("the key store takes no writes: \(ControlError.classifying(error))")
        }
        if let tenant = tenants.first(where: { $0.rootKey.provider != rootKeys.providerName }) {
            return .notReady(
                "tenant \(tenant.id) cannot be served: its root key is in the \(tenant.rootKey.provider) root-key service, but this server uses \(rootKeys.providerName)"
            )
        }
        for tenant in tenants {
            do {
                _ = try await Self.within(.seconds(3)) { try await rootKeys.info(rootKeyID: tenant.rootKey.keyID) }
            } catch RootKeyError.notFound, RootKeyError.deleted, RootKeyError.disabled {
                continue
            } catch {
                return .notReady(
                    "the \(rootKeys.providerName) root-key service does not answer for the root key of tenant \(tenant.id): \(ControlError.classifying(error))"
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
                throw ControlError(.storeUnavailable, "no answer within \(limit)")
            }
            return value
        }
    }
}
