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

/// The JSON bodies of the admin API. Field names are the JSON keys; none carries key material.

/// A tenant: one customer instance with its own root key, clients and keys.
public struct AdminTenant: Codable, Hashable, Sendable {
    public var id: String
    public var displayName: String
    public var rootKeyProvider: String
    public var rootKeyID: String
    public var rootKeyVersion: Int
    public var clientRules: Int
    /// Seconds since the epoch.
    public var createdAt: Int64

    public init(
        id: String,
        displayName: String,
        rootKeyProvider: String,
        rootKeyID: String,
        rootKeyVersion: Int,
        clientRules: Int,
        createdAt: Int64
    ) {
        self.id = id
        self.displayName = displayName
        self.rootKeyProvider = rootKeyProvider
        self.rootKeyID = rootKeyID
        self.rootKeyVersion = rootKeyVersion
        self.clientRules = clientRules
        self.createdAt = createdAt
    }
}

/// `POST /v1/tenants`.
public struct AdminCreateTenant: Codable, Hashable, Sendable {
    public var id: String
    public var displayName: String?

    public init(id: String, displayName: String? = nil) {
        self.id = id
        self.displayName = displayName
    }
}

/// A client rule: a pinned certificate or a trusted CA, and the tenant its clients act for.
public struct AdminClientRule: Codable, Hashable, Sendable {
    public var id: String
    public var tenant: String
    /// `pinned` or `ca`.
    public var kind: String
    /// SHA-256 of the certificate's DER, hex.
    public var fingerprint: String
    public var label: String
    public var createdAt: Int64

    public init(id: String, tenant: String, kind: String, fingerprint: String, label: String, createdAt: Int64) {
        self.id = id
        self.tenant = tenant
        self.kind = kind
        self.fingerprint = fingerprint
        self.label = label
        self.createdAt = createdAt
    }
}

/// `POST /v1/clients`: pin one client certificate (`kind` `pinned`) or trust a CA (`kind` `ca`).
public struct AdminAddClient: Codable, Hashable, Sendable {
    public var tenant: String
    public var kind: String
    /// The certificate (or CA bundle), PEM.
    public var pem: String
    public var label: String?

    public init(tenant: String, kind: String, pem: String, label: String? = nil) {
        self.tenant = tenant
        self.kind = kind
        self.pem = pem
        self.label = label
    }
}

/// `POST /v1/clients/issue`: issue a client certificate and key named `name` and pin it.
public struct AdminIssueClient: Codable, Hashable, Sendable {
    public var tenant: String
    public var name: String

    public init(tenant: String, name: String) {
        self.tenant = tenant
        self.name = name
    }
}

/// What `POST /v1/clients/issue` made: the rule, and where the server wrote the files.
public struct AdminIssuedClient: Codable, Hashable, Sendable {
    public var rule: AdminClientRule
    public var certificatePath: String
    public var keyPath: String

    public init(rule: AdminClientRule, certificatePath: String, keyPath: String) {
        self.rule = rule
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}

/// `POST /v1/clients/sign-csr`: sign vCenter's CSR (PEM) and pin the certificate.
public struct AdminSignCSR: Codable, Hashable, Sendable {
    public var tenant: String
    public var csr: String
    public var label: String?

    public init(tenant: String, csr: String, label: String? = nil) {
        self.tenant = tenant
        self.csr = csr
        self.label = label
    }
}

/// What `POST /v1/clients/sign-csr` made: the rule and the signed certificate (PEM).
public struct AdminSignedCSR: Codable, Hashable, Sendable {
    public var rule: AdminClientRule
    public var subject: String
    public var certificate: String

    public init(rule: AdminClientRule, subject: String, certificate: String) {
        self.rule = rule
        self.subject = subject
        self.certificate = certificate
    }
}

/// A tenant's root key as the store and the root-key service see it.
public struct AdminRootKeyStatus: Codable, Hashable, Sendable {
    public var tenant: String
    public var provider: String
    public var keyID: String
    /// `active`, `disabled` or `deleted`.
    public var state: String
    /// The version new wraps use.
    public var currentVersion: Int
    /// Keys still wrapped under an older version (the re-wrap job's backlog), when known.
    public var keysOnOlderVersions: Int?

    public init(
        tenant: String,
        provider: String,
        keyID: String,
        state: String,
        currentVersion: Int,
        keysOnOlderVersions: Int? = nil
    ) {
        self.tenant = tenant
        self.provider = provider
        self.keyID = keyID
        self.state = state
        self.currentVersion = currentVersion
        self.keysOnOlderVersions = keysOnOlderVersions
    }
}

/// One managed object, without its material.
public struct AdminKey: Codable, Hashable, Sendable {
    public var uniqueIdentifier: String
    /// The KMIP Object Type's name (`SymmetricKey`).
    public var objectType: String
    /// The KMIP State's name (`Active`), or `Shredded` when the tenant's root key is deleted.
    public var state: String
    /// The root-key version its material is wrapped under; `nil` when it has none.
    public var rootKeyVersion: Int?
    public var createdAt: Int64
    public var names: [String]

    public init(
        uniqueIdentifier: String,
        objectType: String,
        state: String,
        rootKeyVersion: Int?,
        createdAt: Int64,
        names: [String]
    ) {
        self.uniqueIdentifier = uniqueIdentifier
        self.objectType = objectType
        self.state = state
        self.rootKeyVersion = rootKeyVersion
        self.createdAt = createdAt
        self.names = names
    }
}

/// `GET /v1/tenants/{tenant}/keys`.
public struct AdminKeyList: Codable, Hashable, Sendable {
    public var keys: [AdminKey]
    /// Every key of the tenant, also those beyond `limit`.
    public var total: Int

    public init(keys: [AdminKey], total: Int) {
        self.keys = keys
        self.total = total
    }
}

/// `POST /v1/tenants/{tenant}/keys/{uid}/revoke`.
public struct AdminRevokeKey: Codable, Hashable, Sendable {
    /// Revoke as Key Compromise instead of Cessation of Operation.
    public var compromised: Bool?

    public init(compromised: Bool? = nil) {
        self.compromised = compromised
    }
}

/// What a prewarm did: keys unwrapped into the running server's cache.
public struct AdminPrewarmResult: Codable, Hashable, Sendable {
    public var tenant: String
    public var unwrapped: Int
    public var failed: Int

    public init(tenant: String, unwrapped: Int, failed: Int) {
        self.tenant = tenant
        self.unwrapped = unwrapped
        self.failed = failed
    }
}

/// The answer of `/readyz`.
public struct AdminReadiness: Codable, Hashable, Sendable {
    /// `ready` or `not ready`.
    public var status: String
    /// Why it is not ready; `nil` when ready.
    public var reason: String?

    public static let ready = AdminReadiness(status: "ready", reason: nil)

    public static func notReady(_ reason: String) -> AdminReadiness {
        AdminReadiness(status: "not ready", reason: reason)
    }

    public var isReady: Bool { self.reason == nil }
}

/// An error body: `{"error": "..."}`.
public struct AdminErrorBody: Codable, Hashable, Sendable {
    public var error: String

    public init(error: String) {
        self.error = error
    }
}
