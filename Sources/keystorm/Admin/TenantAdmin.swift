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
import KeyStore
import KeystormPKI
import RootKeys

/// What operators do to tenants and client rules, for the CLI and the first start alike.
struct TenantAdmin {
    let store: any KeyStore
    let rootKeys: any RootKeyService
    let dataDirectory: DataDirectory

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    /// Creates a tenant with a fresh root key, or with the existing root key `rootKeyID` (which must
    /// be active in the service; the tenant starts at its current version).
    func createTenant(id: String, displayName: String?, rootKeyID: String? = nil) async throws -> Tenant {
        if let problem = NameRules.problem(id, kind: "tenant id") { throw SettingsError(problem) }
        if try await self.store.tenant(id: id) != nil { throw SettingsError("tenant '\(id)' already exists") }
        let handle: RootKeyHandle
        if let rootKeyID {
            let info = try await self.rootKeys.info(rootKeyID: rootKeyID)
            guard info.state == .active else {
                throw SettingsError("root key \(rootKeyID) is \(info.state) in \(self.rootKeys.providerName); a tenant needs an active one")
            }
            handle = RootKeyHandle(keyID: info.keyID, version: max(1, info.currentVersion))
        } else {
            handle = try await self.rootKeys.createRootKey(label: "tenant \(id)")
        }
        let tenant = Tenant(
            id: id,
            displayName: displayName ?? id,
            rootKey: RootKeyReference(provider: self.rootKeys.providerName, keyID: handle.keyID, version: handle.version),
            createdAt: Self.now()
        )
        try await self.store.createTenant(tenant)
        return tenant
    }

    func requireTenant(_ id: String) async throws {
        guard try await self.store.tenant(id: id) != nil else { throw SettingsError("no tenant '\(id)'; see 'keystorm tenants list'") }
    }

    /// Trust mode "vCenter Root CA Certificate": every client certificate this CA issued acts for the tenant.
    func trustCA(pem: String, tenant: String, label: String?) async throws -> [ClientRule] {
        try await self.requireTenant(tenant)
        let certificates = try PEMCertificate.parseBundle(pem)
        guard !certificates.isEmpty else { throw SettingsError("no certificate in the file") }
        var rules: [ClientRule] = []
        for certificate in certificates {
            guard certificate.isCA else {
                throw SettingsError("\(certificate.subject) is not a CA certificate; pin it with --cert instead")
            }
            rules.append(try await self.addRule(.trustedCA, certificate: certificate, tenant: tenant, label: label))
        }
        return rules
    }

    /// Trust mode "vCenter Certificate": this one certificate (often self-signed) acts for the tenant.
    func pin(pem: String, tenant: String, label: String?) async throws -> ClientRule {
        try await self.requireTenant(tenant)
        let certificates = try PEMCertificate.parseBundle(pem)
        guard let certificate = certificates.first else { throw SettingsError("no certificate in the file") }
        guard certificate.hasExtendedKeyUsage(.clientAuth) else {
            throw SettingsError("\(certificate.subject) lacks the clientAuth extended key usage; vCenter's KMIP client certificate has it")
        }
        return try await self.addRule(.pinnedCertificate, certificate: certificate, tenant: tenant, label: label)
    }

    /// Trust mode "KMS certificate and private key": Keystorm issues a client certificate and key
    /// for vCenter to upload, and pins it for the tenant.
    func issue(name: String, tenant: String) async throws -> (ClientRule, certificatePath: String, keyPath: String) {
        // Both become parts of a path under the data directory: never build one from a name
        // that could climb out of it (`..`) or land on another file.
        if let problem = NameRules.problem(name, kind: "client name") { throw SettingsError(problem) }
        if let problem = NameRules.problem(tenant, kind: "tenant id") { throw SettingsError(problem) }
        try await self.requireTenant(tenant)
        let directory = self.dataDirectory.clientDirectory(tenant: tenant)
        let certificatePath = directory + "/" + name + ".pem"
        let keyPath = directory + "/" + name + ".key"
        for path in [certificatePath, keyPath] where FileManager.default.fileExists(atPath: path) {
            throw SettingsError("\(path) already exists: issue with another --name, or remove the old files first")
        }
        let issued = try self.dataDirectory.clientCA().issueClientCertificate(commonName: name)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Created exclusively: an existing file (of this client or any other) is never replaced.
        try issued.save(certificatePath: certificatePath, privateKeyPath: keyPath)
        let rule = try await self.addRule(.pinnedCertificate, certificate: issued.certificate, tenant: tenant, label: name)
        return (rule, certificatePath, keyPath)
    }

    /// Trust mode "New Certificate Signing Request": Keystorm signs vCenter's CSR and pins the result.
    func signCSR(pem: String, tenant: String, label: String?) async throws -> (ClientRule, PEMCertificate) {
        try await self.requireTenant(tenant)
        let certificate = try self.dataDirectory.clientCA().signCSR(pem: pem)
        let rule = try await self.addRule(.pinnedCertificate, certificate: certificate, tenant: tenant, label: label ?? certificate.commonName)
        return (rule, certificate)
    }

    private func addRule(_ kind: ClientRule.Kind, certificate: PEMCertificate, tenant: String, label: String?) async throws -> ClientRule {
        let fingerprint = certificate.sha256Fingerprint
        if let existing = try await self.store.clients(tenantID: nil).first(where: { $0.fingerprint == fingerprint && $0.kind == kind }) {
            throw SettingsError("certificate \(fingerprint) is already trusted (rule \(existing.id), tenant \(existing.tenantID))")
        }
        let rule = ClientRule(
            id: UUID().uuidString.lowercased(),
            tenantID: tenant,
            kind: kind,
            fingerprint: fingerprint,
            certificatePEM: certificate.pem,
            label: label ?? certificate.commonName ?? certificate.subject,
            createdAt: Self.now()
        )
        try await self.store.addClient(rule)
        return rule
    }
}
