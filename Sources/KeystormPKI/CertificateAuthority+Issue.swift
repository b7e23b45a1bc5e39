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

internal import SwiftASN1
internal import X509

#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif

extension CertificateAuthority {
    /// Issues a TLS server certificate for Keystorm's KMIP listener with a fresh key.
    ///
    /// The profile follows what vCenter and ESXi accept (KMIP-VMWARE §1.9): `extendedKeyUsage serverAuth,
    /// clientAuth` (ESXi 6.7 needed both), `keyUsage digitalSignature` (critical; plus `keyEncipherment` for
    /// an RSA key, which `TLS_RSA_*` suites need), `basicConstraints CA:FALSE` (critical), the subject and
    /// authority key identifiers, and a subject alternative name with every DNS name and IP address. When
    /// `commonName` is itself a DNS name or an IP address it is added to the alternative names, since TLS
    /// clients match host names against those only.
    ///
    /// - Parameters:
    ///   - commonName: The subject common name, usually the host name vCenter connects to.
    ///   - dnsNames: DNS names for the subject alternative name; `*.` wildcards are allowed.
    ///   - ipAddresses: IPv4 or IPv6 addresses as text.
    ///   - validity: How long the certificate is valid; clamped to the CA's own end of validity.
    ///   - keyAlgorithm: The certificate's key: ECDSA P-256 by default.
    /// - Returns: The certificate and its PKCS#8 private key.
    /// - Throws: ``PKIError/invalidName``, ``PKIError/invalidSubjectAlternativeName``,
    ///   ``PKIError/invalidValidity``, ``PKIError/signingFailed``.
    public func issueServerCertificate(
        commonName: String,
        dnsNames: [String] = ["localhost"],
        ipAddresses: [String] = ["127.0.0.1", "::1"],
        validity: CertificateValidity = .leafDefault,
        keyAlgorithm: KeyAlgorithm = .ecdsaP256
    ) throws(PKIError) -> IssuedCertificate {
        var names: [GeneralName] = []
        for name in dnsNames { names.append(.dnsName(try Self.validatedDNSName(name))) }
        for address in ipAddresses {
            guard let bytes = IPAddressText.bytes(address) else {
                throw PKIError(.invalidSubjectAlternativeName, reason: "\(address) is not an IPv4 or IPv6 address")
            }
            names.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...])))
        }
        if let bytes = IPAddressText.bytes(commonName) {
            names.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...])))
        } else if let name = try? Self.validatedDNSName(commonName) {
            names.append(.dnsName(name))
        }
        var unique: [GeneralName] = []
        for name in names where !unique.contains(name) { unique.append(name) }
        return try self.issueWithNewKey(
            commonName: commonName,
            alternativeNames: unique,
            validity: validity,
            keyAlgorithm: keyAlgorithm
        )
    }

    /// Issues a TLS client certificate with a fresh key: vCenter's "KMS certificate and private key" mode.
    ///
    /// The profile is `extendedKeyUsage clientAuth, serverAuth` (PyKMIP requires clientAuth; ESXi worked only
    /// with both), `keyUsage digitalSignature` (critical; plus `keyEncipherment` for RSA),
    /// `basicConstraints CA:FALSE` (critical), and the key identifiers. Call it on Keystorm's client CA.
    ///
    /// - Parameters:
    ///   - commonName: The subject common name, the client identity shown in logs (such as `vcenter-prod`).
    ///   - validity: How long the certificate is valid; clamped to the CA's own end of validity.
    ///   - keyAlgorithm: The certificate's key: ECDSA P-256 by default; vCenter also accepts RSA-2048.
    /// - Returns: The certificate and its PKCS#8 private key, the two files vCenter's upload dialog takes.
    /// - Throws: ``PKIError/invalidName``, ``PKIError/invalidValidity``, ``PKIError/signingFailed``.
    public func issueClientCertificate(
        commonName: String,
        validity: CertificateValidity = .leafDefault,
        keyAlgorithm: KeyAlgorithm = .ecdsaP256
    ) throws(PKIError) -> IssuedCertificate {
        try self.issueWithNewKey(
            commonName: commonName,
            alternativeNames: [],
            validity: validity,
            keyAlgorithm: keyAlgorithm
        )
    }

    private func issueWithNewKey(
        commonName: String,
        alternativeNames: [GeneralName],
        validity: CertificateValidity,
        keyAlgorithm: KeyAlgorithm
    ) throws(PKIError) -> IssuedCertificate {
        try Self.validateName(commonName, what: "common name")
        var attributes = self.organizationAttributes
        attributes.append(.init(type: .RDNAttributeType.commonName, utf8String: commonName))
        let subject = DistinguishedName(attributes.map { RelativeDistinguishedName($0) })
        let key = try SigningKey.generate(keyAlgorithm)
        let certificate = try self.issue(
            subject: subject,
            publicKey: key.publicKey,
            alternativeNames: alternativeNames,
            validity: validity
        )
        return IssuedCertificate(certificate: certificate, privateKeyPEM: key.pkcs8PEM)
    }

    /// Signs an end-entity certificate for `publicKey` with the TLS server-and-client profile.
    func issue(
        subject: DistinguishedName,
        publicKey: Certificate.PublicKey,
        alternativeNames: [GeneralName],
        validity: CertificateValidity
    ) throws(PKIError) -> PEMCertificate {
        let authority = self.certificate.certificate
        let window = try validity.window(limit: authority.notValidAfter)
        let authorityKeyIdentifier =
            (try? authority.extensions.subjectKeyIdentifier)?.keyIdentifier
            ?? SubjectKeyIdentifier(hash: authority.publicKey).keyIdentifier
        // keyEncipherment only means something for RSA keys (TLS_RSA_* key transport).
        let isRSA = PEMCertificate.describe(publicKey).hasPrefix("RSA")
        do {
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: isRSA))
                try X509.ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: authorityKeyIdentifier)
                if !alternativeNames.isEmpty {
                    SubjectAlternativeNames(alternativeNames)
                }
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Self.randomSerialNumber(),
                publicKey: publicKey,
                notValidBefore: window.notBefore,
                notValidAfter: window.notAfter,
                issuer: authority.subject,
                subject: subject,
                signatureAlgorithm: self.key.signatureAlgorithm,
                extensions: extensions,
                issuerPrivateKey: self.key.certificateKey
            )
            return try PEMCertificate(certificate)
        } catch let error as PKIError {
            throw error
        } catch {
            throw PKIError(.signingFailed, reason: "cannot build the certificate for \(subject): \(error)")
        }
    }

    /// The CA subject's organization attributes, which issued certificates inherit.
    private var organizationAttributes: [RelativeDistinguishedName.Attribute] {
        self.certificate.certificate.subject.flatMap { rdn in
            rdn.filter { $0.type == .RDNAttributeType.organizationName }
        }
    }

    /// A DNS name for a subject alternative name: letters, digits, hyphens and dots, an optional leading
    /// `*.` label, at most 253 characters and 63 per label.
    static func validatedDNSName(_ name: String) throws(PKIError) -> String {
        var labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if labels.first == "*" { labels.removeFirst() }
        let validLabel: (Substring) -> Bool = { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { byte in
                    (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 45
                }
        }
        guard !labels.isEmpty, name.utf8.count <= 253, labels.allSatisfy(validLabel) else {
            throw PKIError(.invalidSubjectAlternativeName, reason: "\(name) is not a valid DNS name")
        }
        return name
    }
}
