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
import KMIPModel
import KMIPServer
import KeyStore
import RootKeys

extension ControlPlane {
    /// One managed object as an operator sees it, without its material.
    public struct KeySummary: Hashable, Sendable {
        public var uniqueIdentifier: String
        /// The KMIP Object Type's name (`SymmetricKey`).
        public var objectType: String
        /// The KMIP State's name (`Active`), or `Shredded` when the tenant's root key is
        /// deleted and the key had material: nothing can unwrap it any more.
        public var state: String
        /// Whether the tenant's root key is deleted and this key's material is lost with it.
        public var shredded: Bool
        /// The root-key version its material is wrapped under; `nil` when it has none.
        public var rootKeyVersion: Int?
        public var createdAt: Int64
        public var names: [String]
    }

    /// A page of a tenant's keys.
    public struct KeyListing: Hashable, Sendable {
        public var keys: [KeySummary]
        /// Every key of the tenant, also those beyond the limit.
        public var total: Int
    }

    /// The tenant's keys, at most `limit`, oldest first.
    ///
    /// - Throws: ``ControlError/notFound`` when the tenant does not exist.
    public func keys(tenant id: String, limit: Int) async throws(ControlError) -> KeyListing {
        let tenant = try await self.tenant(id)
        let shredded = await self.isShredded(tenant)
        let page = try await self.mapped("listing the keys of tenant '\(id)'") {
            try await self.store.objects(tenantID: id, matching: ObjectQuery(limit: limit))
        }
        let keys = page.objects.map { object in
            let lost = shredded && object.wrappedKey != nil
            return KeySummary(
                uniqueIdentifier: object.uniqueIdentifier,
                objectType: ObjectType(rawValue: object.objectType).name,
                state: lost ? "Shredded" : State(rawValue: object.state).name,
                shredded: lost,
                rootKeyVersion: object.wrappedKey?.rootKeyVersion,
                createdAt: object.createdAt,
                names: object.names
            )
        }
        return KeyListing(keys: keys, total: page.totalMatches)
    }

    /// Whether the tenant's root key is known to be deleted in its service (a service that does
    /// not answer, or another service than the configured one, proves nothing).
    func isShredded(_ tenant: Tenant) async -> Bool {
        guard tenant.rootKey.provider == self.rootKeys.providerName else { return false }
        do {
            return try await self.rootKeys.info(rootKeyID: tenant.rootKey.keyID).state == .deleted
        } catch RootKeyError.notFound, RootKeyError.deleted {
            return true
        } catch {
            return false
        }
    }

    /// Revokes one key with KMIP Revoke as the client `operator` of the tenant.
    ///
    /// - Throws: ``ControlError/notFound`` for an unknown key, ``ControlError/conflict`` when its
    ///   state forbids it.
    public func revokeKey(tenant: String, uniqueIdentifier: String, compromised: Bool) async throws(ControlError) {
        let reason = RevocationReason(
            code: compromised ? .keyCompromise : .cessationOfOperation,
            message: "revoked by operator"
        )
        try await self.perform(
            RevokeRequest(uniqueIdentifier: .text(uniqueIdentifier), revocationReason: reason),
            tenant: tenant,
            uniqueIdentifier: uniqueIdentifier
        )
    }

    /// Destroys one key's material with KMIP Destroy as the client `operator` of the tenant.
    ///
    /// - Throws: ``ControlError/notFound``, ``ControlError/conflict`` (an Active key is revoked first).
    public func destroyKey(tenant: String, uniqueIdentifier: String) async throws(ControlError) {
        try await self.perform(
            DestroyRequest(uniqueIdentifier: .text(uniqueIdentifier)),
            tenant: tenant,
            uniqueIdentifier: uniqueIdentifier
        )
    }

    /// Runs one KMIP operation as the client `operator` of `tenant` through the executor: the
    /// same state rules and audit log as a client's request (and the server's cache purge).
    private func perform<P: KMIPRequestPayload>(
        _ payload: P,
        tenant: String,
        uniqueIdentifier: String
    ) async throws(ControlError) {
        _ = try await self.tenant(tenant)
        let operation = "\(P.operation.name) of key \(uniqueIdentifier) of tenant '\(tenant)'"
        let executor = try await self.mapped("opening the audit log \(self.directory.auditPath)") {
            try self.executor ?? self.directExecutor()
        }
        let request = RequestMessage(version: .v1_4, batchItems: [RequestBatchItem(payload)])
        let response = await executor.execute(
            request,
            client: ClientIdentity(tenantID: tenant, fingerprint: "operator")
        )
        guard let item = response.batchItems.first else {
            throw ControlError(.internalError, "\(operation): the executor gave no answer")
        }
        guard item.resultStatus == .success else {
            let message = "\(operation) failed: \(item.resultReason?.name ?? "?"): \(item.resultMessage ?? "")"
            switch item.resultReason {
            case .itemNotFound?: throw ControlError(.notFound, message)
            case .wrongKeyLifecycleState?, .permissionDenied?, .objectDestroyed?: throw ControlError(.conflict, message)
            default: throw ControlError(.badRequest, message)
            }
        }
    }

    /// An executor over the store and the root-key service, auditing into the data directory's
    /// audit log: the CLI's when no server runs.
    private func directExecutor() throws -> BatchExecutor {
        let core = KMIPServerCore(
            store: self.store,
            rootKeys: self.rootKeys,
            audit: try AuditLogFile(path: self.directory.auditPath),
            clock: { Int64(Date().timeIntervalSince1970) },
            makeIdentifier: { UUID().uuidString.lowercased() }
        )
        return BatchExecutor(core: core)
    }
}
