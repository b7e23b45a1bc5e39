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


public import KeystormControl
/// What the admin API does. ``ControlAdminOperations`` implements it over the control plane
/// (`KeystormControl`'s `ServerControl`), the same logic as the `tenants`, `clients`, `root-key`
/// and `keys` commands. A `ControlError` becomes the HTTP status of its code
/// (``AdminRoutes/status(for:)``), an ``AdminAPIError`` its own status; any other error is a 500.
public protocol AdminOperations: Sendable {
    /// Every tenant.
    func tenants() async throws -> [AdminTenant]
    /// Creates a tenant with a new root key.
    func createTenant(_ request: AdminCreateTenant) async throws -> AdminTenant
    /// The client rules, of one tenant or of all.
    func clients(tenant: String?) async throws -> [AdminClientRule]
    /// Pins a certificate or trusts a CA (one rule per CA certificate of a bundle).
    func addClient(_ request: AdminAddClient) async throws -> [AdminClientRule]
    /// Issues a client certificate and key into the data directory and pins it.
    func issueClient(_ request: AdminIssueClient) async throws -> AdminIssuedClient
    /// Signs a CSR with the client CA and pins the certificate.
    func signCSR(_ request: AdminSignCSR) async throws -> AdminSignedCSR
    /// Removes a client rule; its clients are refused from their next connection on.
    func removeClient(id: String) async throws
    /// The tenant's root key: state and current version.
    func rootKeyStatus(tenant: String) async throws -> AdminRootKeyStatus
    /// Makes a new root-key version current; the re-wrap job moves the keys to it.
    func rotateRootKey(tenant: String) async throws -> AdminRootKeyStatus
    /// Deletes the tenant's root key: every key of the tenant is crypto-shredded.
    func deleteRootKey(tenant: String) async throws -> AdminRootKeyStatus
    /// The tenant's keys, at most `limit`.
    func keys(tenant: String, limit: Int) async throws -> AdminKeyList
    /// Revokes one key (KMIP Revoke as the operator) and drops it from the key cache.
    func revokeKey(tenant: String, uniqueIdentifier: String, compromised: Bool) async throws
    /// Destroys one key (KMIP Destroy as the operator) and drops it from the key cache.
    func destroyKey(tenant: String, uniqueIdentifier: String) async throws
    /// Unwraps the tenant's `recent` most recent Pre-Active and Active keys into the key cache
    /// ahead of a boot storm.
    func prewarm(tenant: String, recent: Int) async throws -> AdminPrewarmResult
    /// Whether the server can serve: the store answers and the root-key service answers for the
    /// tenants' root keys.
    func readiness() async -> AdminReadiness
    /// The store (role, replication) and the nodes that share it.
    func cluster() async throws -> ClusterStatus
}

/// A failure of the HTTP layer itself (a malformed or late request body, a bad listener
/// setting) with its HTTP status; the message goes to the client as `{"error": ...}` and must not
/// contain key material. What the control plane refuses is a `ControlError`.
public struct AdminAPIError: Error, CustomStringConvertible, Sendable {
    /// The HTTP status class of the failure.
    public struct Code: Hashable, Sendable {
        let status: Int
        /// 400: the request is malformed or names something invalid.
        public static let badRequest = Code(status: 400)
        /// 404: no such tenant, client rule or key.
        public static let notFound = Code(status: 404)
        /// 409: it exists already, or its state forbids the change.
        public static let conflict = Code(status: 409)
        /// 408: the request (its body) did not arrive in time.
        public static let requestTimeout = Code(status: 408)
        /// 413: the request body is too large.
        public static let payloadTooLarge = Code(status: 413)
        /// 503: the store or the root-key service does not answer.
        public static let unavailable = Code(status: 503)
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The HTTP status code.
    public var status: Int { self.code.status }

    public var description: String { "AdminAPIError(\(self.code.status)): \(self.message)" }
}
