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
public import KeyStore
import KeystormPKI

extension ControlPlane {
    /// The client rules, of one tenant or of all, ordered by id.
    ///
    /// - Throws: ``ControlError/notFound`` when `tenant` does not exist.
    public func clients(tenant: String?) async throws(ControlError) -> [ClientRule] {
        if let tenant { _ = try await self.tenant(tenant) }
        return try await self.mapped("listing client rules") { try await self.store.clients(tenantID: tenant) }
    }

    /// Trust mode "vCenter Root CA Certificate": every client certificate this CA issued acts
    /// for the tenant. One rule per CA certificate of the bundle.
    ///
    /// - Throws: ``ControlError/badRequest`` for no certificate or one that is not a CA,
    ///   ``ControlError/alreadyExists`` for a certificate trusted already.
    public func trustCA(pem: String, tenant: String, label: String?) async throws(ControlError) -> [ClientRule] {
        _ = try await self.tenant(tenant)
        let certificates = try Self.parse(pem)
        var rules: [ClientRule] = []
        for certificate in certificates {
            guard certificate.isCA else {
                throw ControlError(
                    .badRequest,
                    "\(certificate.subject) is not a CA certificate; pin it with --cert instead"
                )
            }
            rules.append(try await self.addRule(.trustedCA, certificate: certificate, tenant: tenant, label: label))
        }
        return rules
    }

    /// Trust mode "vCenter Certificate": this one certificate (often self-signed) acts for the
    /// tenant. A certificate without the extended-key-usage extension is unrestricted (RFC 5280
    /// §4.2.1.12); one whose extension leaves out clientAuth is refused.
    ///
    /// - Throws: ``ControlError/badRequest``, ``ControlError/alreadyExists``.
    public func pin(pem: String, tenant: String, label: String?) async throws(ControlError) -> ClientRule {
        _ = try await self.tenant(tenant)
        guard let certificate = try Self.parse(pem).first else {
            throw ControlError(.badRequest, "no certificate in the file")
        }
        guard certificate.permitsExtendedKeyUsage(.clientAuth) else {
            throw ControlError(
                .badRequest,
                "\(certificate.subject) has an extended key usage without clientAuth: it cannot be a TLS client certificate"
            )
        }
        return try await self.addRule(.pinnedCertificate, certificate: certificate, tenant: tenant, label: label)
    }

    /// What ``issue(name:tenant:)`` made.
    public struct IssuedClient: Hashable, Sendable {
        public var rule: ClientRule
        public var certificatePath: String
        public var keyPath: String
    }

    /// Trust mode "KMS certificate and private key": Keystorm issues a client certificate and key
    /// for vCenter to upload (under `clients/<tenant>/` in the data directory), and pins it.
    ///
    /// - Throws: ``ControlError/invalidName``, ``ControlError/alreadyExists`` when the files exist.
    public func issue(name: String, tenant: String) async throws(ControlError) -> IssuedClient {
        // Both become parts of a path under the data directory: never build one from a name
        // that could climb out of it (`..`) or land on another file.
        if let problem = NameRules.problem(name, kind: "client name") { throw ControlError(.invalidName, problem) }
        if let problem = NameRules.problem(tenant, kind: "tenant id") { throw ControlError(.invalidName, problem) }
        _ = try await self.tenant(tenant)
        let directory = self.directory.clientDirectory(tenant: tenant)
        let certificatePath = directory + "/" + name + ".pem"
        let keyPath = directory + "/" + name + ".key"
        for path in [certificatePath, keyPath] where FileManager.default.fileExists(atPath: path) {
            throw ControlError(
                .alreadyExists,
                "\(path) already exists: issue with another --name, or remove the old files first"
            )
        }
        let issued = try await self.mapped("issuing a client certificate with the client CA of \(self.directory.path)")
        {
            try self.directory.clientCA().issueClientCertificate(commonName: name)
        }
        try await self.mapped("writing \(certificatePath)") {
            try FileManager.default.createDirectory(
                atPath: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
            // Created exclusively: an existing file (of this client or any other) is never replaced.
            try issued.save(certificatePath: certificatePath, privateKeyPath: keyPath)
        }
        let rule = try await self.addRule(
            .pinnedCertificate,
            certificate: issued.certificate,
            tenant: tenant,
            label: name
        )
        return IssuedClient(rule: rule, certificatePath: certificatePath, keyPath: keyPath)
    }

    /// What ``signCSR(pem:tenant:label:)`` made.
    public struct SignedClient: Hashable, Sendable {
        public var rule: ClientRule
        /// The certificate's subject, e.g. `CN=vcenter.example.com`.
        public var subject: String
        /// The signed certificate, PEM.
        public var certificatePEM: String
    }

    /// Trust mode "New Certificate Signing Request": Keystorm signs vCenter's CSR and pins the result.
    ///
    /// - Returns: The new rule and the signed certificate.
    /// - Throws: ``ControlError/badRequest`` for a CSR that does not parse or verify.
    public func signCSR(pem: String, tenant: String, label: String?) async throws(ControlError) -> SignedClient {
        _ = try await self.tenant(tenant)
        let certificate = try await self.mapped("signing the CSR") { try self.directory.clientCA().signCSR(pem: pem) }
        let rule = try await self.addRule(
            .pinnedCertificate,
            certificate: certificate,
            tenant: tenant,
            label: label ?? certificate.commonName
        )
        return SignedClient(rule: rule, subject: certificate.subject, certificatePEM: certificate.pem)
    }

    /// Removes a client rule.
    ///
    /// - Throws: ``ControlError/notFound`` when there is no such rule.
    public func removeClient(id: String) async throws(ControlError) {
        let removed = try await self.mapped("removing client rule \(id)") { try await self.store.removeClient(id: id) }
        guard removed else { throw ControlError(.notFound, "no client rule \(id); see 'keystorm clients list'") }
    }

    private static func parse(_ pem: String) throws(ControlError) -> [PEMCertificate] {
        let certificates: [PEMCertificate]
        do {
            certificates = try PEMCertificate.parseBundle(pem)
        } catch {
            throw ControlError.classifying(error, operation: "reading the certificate")
        }
        guard !certificates.isEmpty else { throw ControlError(.badRequest, "no certificate in the file") }
        return certificates
    }

    /// The longest label a client rule takes.
    static let maxLabelLength = 256

    private func addRule(
        _ kind: ClientRule.Kind,
        certificate: PEMCertificate,
        tenant: String,
        label: String?
    ) async throws(ControlError) -> ClientRule {
        // A label is shown in lists and logs: bounded, and one line of printable text.
        if let label,
            label.count > Self.maxLabelLength
                || label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        {
            throw ControlError(
                .badRequest,
                "a rule label is at most \(Self.maxLabelLength) characters without control characters"
            )
        }
        let fingerprint = certificate.sha256Fingerprint
        return try await self.mapped("adding a client rule for tenant '\(tenant)'") {
            let rules = try await self.store.clients(tenantID: nil)
            if let existing = rules.first(where: { $0.fingerprint == fingerprint && $0.kind == kind }) {
                throw ControlError(
                    .alreadyExists,
                    "certificate \(fingerprint) is already trusted (rule \(existing.id), tenant \(existing.tenantID))"
                )
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
}
