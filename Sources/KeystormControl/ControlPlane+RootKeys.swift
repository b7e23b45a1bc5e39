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
import KeyStore
public import RootKeys

extension ControlPlane {
    /// A tenant's root key as the store and its root-key service see it.
    public struct RootKeyStatus: Hashable, Sendable {
        public var tenant: String
        public var provider: String
        public var keyID: String
        /// The state in the service; `deleted` when the service no longer knows the key.
        public var state: RootKeyState
        /// The version new wraps use (the service's, or the tenant record's when it is deleted).
        public var currentVersion: Int
        /// The version the tenant record holds.
        public var recordedVersion: Int
        /// The tenant's keys per root-key version.
        public var census: RootKeyCensus

        /// Keys still wrapped under a version older than the tenant's (the re-wrap backlog).
        public var keysOnOlderVersions: Int { self.census.olderThan(self.recordedVersion) }
    }

    /// The tenant's root key: provider, state, versions and keys per version.
    ///
    /// - Throws: ``ControlError/notFound``, ``ControlError/providerMismatch``.
    public func rootKeyStatus(tenant id: String) async throws(ControlError) -> RootKeyStatus {
        try await self.status(self.servedTenant(id))
    }

    /// Makes a new root-key version current and records it on the tenant; the re-wrap job
    /// moves the keys to it.
    ///
    /// - Throws: ``ControlError/rootKeyDeleted`` or ``ControlError/rootKeyDisabled`` when the
    ///   root key cannot be rotated, ``ControlError/notFound``, ``ControlError/providerMismatch``.
    public func rotateRootKey(tenant id: String) async throws(ControlError) -> RootKeyStatus {
        let tenant = try await self.servedTenant(id)
        try await self.requireState(of: tenant, for: "rotate")
        let operation = "rotating the root key of tenant '\(id)'"
        let updated = try await self.mapped(operation) {
            let handle = try await self.rootKeys.rotate(rootKeyID: tenant.rootKey.keyID)
            var updated = try await self.store.tenant(id: id) ?? tenant
            updated.rootKey.version = max(updated.rootKey.version, handle.version)
            try await self.store.updateTenant(updated)
            return updated
        }
        return try await self.status(updated)
    }

    /// Deletes the tenant's root key in its service: every key of the tenant is crypto-shredded.
    ///
    /// - Throws: ``ControlError/rootKeyDeleted`` when it is deleted already,
    ///   ``ControlError/notFound``, ``ControlError/providerMismatch``.
    public func deleteRootKey(tenant id: String) async throws(ControlError) -> RootKeyStatus {
        let tenant = try await self.servedTenant(id)
        if try await self.state(of: tenant) == .deleted {
            throw ControlError(
                .rootKeyDeleted,
                "the root key \(tenant.rootKey.keyID) of tenant '\(id)' is already deleted: its keys are crypto-shredded"
            )
        }
        try await self.mapped("deleting the root key of tenant '\(id)'") {
            try await self.rootKeys.delete(rootKeyID: tenant.rootKey.keyID)
        }
        return try await self.status(tenant)
    }

    /// Refuses an operation on a root key that is deleted or disabled, with one clear line.
    func requireState(of tenant: Tenant, for verb: String) async throws(ControlError) {
        switch try await self.state(of: tenant) {
        case .deleted:
            throw ControlError(
                .rootKeyDeleted,
                "cannot \(verb) the root key of tenant '\(tenant.id)': it is deleted, and its keys are crypto-shredded"
            )
        case .disabled:
            throw ControlError(
                .rootKeyDisabled,
                "cannot \(verb) the root key of tenant '\(tenant.id)': it is disabled in the \(tenant.rootKey.provider) root-key service"
            )
        default:
            return
        }
    }

    /// The root key's state in its service; `deleted` when the service no longer knows it.
    func state(of tenant: Tenant) async throws(ControlError) -> RootKeyState {
        try await self.info(of: tenant)?.state ?? .deleted
    }

    private func info(of tenant: Tenant) async throws(ControlError) -> RootKeyInfo? {
        do {
            return try await self.rootKeys.info(rootKeyID: tenant.rootKey.keyID)
        } catch RootKeyError.notFound, RootKeyError.deleted {
            return nil
        } catch {
            throw ControlError.classifying(error, operation: "reading the root key of tenant '\(tenant.id)'")
        }
    }

    private func status(_ tenant: Tenant) async throws(ControlError) -> RootKeyStatus {
        let info = try await self.info(of: tenant)
        let census = try await self.mapped("counting the keys of tenant '\(tenant.id)'") {
            try await RootKeyCensus.count(self.store, tenantID: tenant.id)
        }
        return RootKeyStatus(
            tenant: tenant.id,
            provider: tenant.rootKey.provider,
            keyID: tenant.rootKey.keyID,
            state: info?.state ?? .deleted,
            currentVersion: info?.currentVersion ?? tenant.rootKey.version,
            recordedVersion: tenant.rootKey.version,
            census: census
        )
    }
}
