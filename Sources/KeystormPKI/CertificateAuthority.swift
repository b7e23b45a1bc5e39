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

/// A certificate authority: a CA certificate and its private key, which issues Keystorm's server and client
/// certificates and signs vCenter's CSRs.
///
/// Keystorm keeps two: the *server CA*, whose certificate vCenter is shown under "Make vCenter Trust KMS",
/// and the *client CA*, which the KMIP listener trusts for client certificates and which serves the trust
/// modes "KMS certificate and private key" (``issueClientCertificate(commonName:validity:keyAlgorithm:)``) and
/// "New Certificate Signing Request" (``signCSR(pem:validity:)``). A client certificate is then admitted only
/// if its ``PEMCertificate/sha256Fingerprint`` is on a tenant's allow-list (DESIGN §6).
///
/// ```swift
/// let clientCA = try CertificateAuthority.loadOrCreate(
///     certificatePath: "keystorm-data/client-ca.pem",
///     privateKeyPath: "keystorm-data/client-ca.key",
///     commonName: "Keystorm client CA"
/// )
/// let issued = try clientCA.issueClientCertificate(commonName: "vcenter-prod")
/// // Upload issued.certificate.pem and issued.privateKeyPEM to vCenter.
/// ```
///
/// KMIP-VMWARE §1.9
public struct CertificateAuthority: Sendable {
    /// The CA certificate: `basicConstraints CA:TRUE` (critical), `keyUsage keyCertSign, cRLSign` (critical).
    public let certificate: PEMCertificate

    let key: SigningKey

    private init(certificate: PEMCertificate, key: SigningKey) {
        self.certificate = certificate
        self.key = key
    }

    /// Creates a new self-signed CA with a fresh key.
    ///
    /// The certificate has `basicConstraints CA:TRUE, pathlen:0` (critical: it issues end-entity certificates
    /// only), `keyUsage keyCertSign, cRLSign` (critical), a subject key identifier and a random 20-byte serial.
    ///
    /// - Parameters:
    ///   - commonName: The CA's common name, such as `Keystorm client CA`.
    ///   - organization: The organization name, copied into every certificate the CA issues; `nil` for none.
    ///   - validity: How long the CA is valid (ten years by default).
    ///   - keyAlgorithm: The CA key: ECDSA P-256 by default.
    /// - Returns: The authority.
    /// - Throws: ``PKIError/invalidName`` for an empty or over-long name, ``PKIError/invalidValidity``,
    ///   ``PKIError/signingFailed``.
    public static func create(
        commonName: String,
        organization: String? = "Keystorm",
        validity: CertificateValidity = .authorityDefault,
        keyAlgorithm: KeyAlgorithm = .ecdsaP256
    ) throws(PKIError) -> CertificateAuthority {
        var attributes = [RelativeDistinguishedName.Attribute]()
        if let organization {
            try Self.validateName(organization, what: "organization")
            attributes.append(.init(type: .RDNAttributeType.organizationName, utf8String: organization))
        }
        try Self.validateName(commonName, what: "common name")
        attributes.append(.init(type: .RDNAttributeType.commonName, utf8String: commonName))
        let name = DistinguishedName(attributes.map { RelativeDistinguishedName($0) })

        let key = try SigningKey.generate(keyAlgorithm)
        let window = try validity.window()
        let identifier = SubjectKeyIdentifier(hash: key.publicKey)
        do {
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                identifier
                AuthorityKeyIdentifier(keyIdentifier: identifier.keyIdentifier)
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Self.randomSerialNumber(),
                publicKey: key.publicKey,
                notValidBefore: window.notBefore,
                notValidAfter: window.notAfter,
                issuer: name,
                subject: name,
                signatureAlgorithm: key.signatureAlgorithm,
                extensions: extensions,
                issuerPrivateKey: key.certificateKey
            )
            return CertificateAuthority(certificate: try PEMCertificate(certificate), key: key)
        } catch let error as PKIError {
            throw error
        } catch {
            throw PKIError(.signingFailed, reason: "cannot build the CA certificate: \(error)")
        }
    }

    /// Loads a CA from its PEM certificate and PEM private key.
    ///
    /// - Parameters:
    ///   - certificatePEM: Exactly one `CERTIFICATE` block.
    ///   - privateKeyPEM: The CA key: PKCS#8, SEC1 or PKCS#1; ECDSA P-256 or RSA.
    /// - Throws: ``PKIError/keyMismatch`` when the key is not the certificate's,
    ///   ``PKIError/notACertificateAuthority`` when the certificate may not issue certificates, and the
    ///   parse errors of ``PEMCertificate/init(pem:)``.
    public init(certificatePEM: String, privateKeyPEM: String) throws(PKIError) {
        let certificate = try PEMCertificate(pem: certificatePEM)
        let key = try SigningKey(pem: privateKeyPEM)
        guard key.publicKey == certificate.certificate.publicKey else {
            throw PKIError(.keyMismatch, reason: "the private key does not belong to \(certificate.subject)")
        }
        let keyUsage = try? certificate.certificate.extensions.keyUsage
        guard certificate.isCA, keyUsage?.keyCertSign ?? true else {
            throw PKIError(
                .notACertificateAuthority,
                reason: "\(certificate.subject) lacks basicConstraints CA:TRUE or keyUsage keyCertSign"
            )
        }
        self.init(certificate: certificate, key: key)
    }

    /// Loads a CA from a PEM certificate file and a PEM private key file.
    ///
    /// - Parameters:
    ///   - certificatePath: The certificate file.
    ///   - privateKeyPath: The private key file.
    /// - Throws: ``PKIError/fileSystem`` and the errors of ``init(certificatePEM:privateKeyPEM:)``.
    public init(certificatePath: String, privateKeyPath: String) throws(PKIError) {
        try self.init(
            certificatePEM: try PEMFile.readText(certificatePath),
            privateKeyPEM: try PEMFile.readText(privateKeyPath)
        )
    }

    /// Writes the certificate (mode `0644`) and the PKCS#8 private key (mode `0600`), each atomically
    /// and exclusively: an existing file is never replaced.
    ///
    /// - Parameters:
    ///   - certificatePath: Where to write the certificate PEM.
    ///   - privateKeyPath: Where to write the private key PEM.
    /// - Throws: ``PKIError/fileSystem``, also when either file exists.
    public func save(certificatePath: String, privateKeyPath: String) throws(PKIError) {
        try PEMFile.writeText(self.key.pkcs8PEM, to: privateKeyPath, mode: 0o600)
        try PEMFile.writeText(self.certificate.pem, to: certificatePath, mode: 0o644)
    }

    /// Loads the CA from its two files, or creates and saves a new one when neither file exists
    /// (`keystorm serve` on first run).
    ///
    /// - Parameters:
    ///   - certificatePath: The certificate file.
    ///   - privateKeyPath: The private key file.
    ///   - commonName: The common name of a new CA.
    ///   - organization: The organization of a new CA.
    /// - Returns: The loaded or new authority.
    /// - Throws: ``PKIError/fileSystem`` when only one of the two files exists, and the errors of
    ///   ``init(certificatePath:privateKeyPath:)`` and ``create(commonName:organization:validity:keyAlgorithm:)``.
    public static func loadOrCreate(
        certificatePath: String,
        privateKeyPath: String,
        commonName: String,
        organization: String? = "Keystorm"
    ) throws(PKIError) -> CertificateAuthority {
        switch (PEMFile.exists(certificatePath), PEMFile.exists(privateKeyPath)) {
        case (true, true):
            return try CertificateAuthority(certificatePath: certificatePath, privateKeyPath: privateKeyPath)
        case (false, false):
            let authority = try CertificateAuthority.create(commonName: commonName, organization: organization)
            try authority.save(certificatePath: certificatePath, privateKeyPath: privateKeyPath)
            return authority
        case (true, false), (false, true):
            throw PKIError(
                .fileSystem,
                reason: "only one of \(certificatePath) and \(privateKeyPath) exists; refusing to replace the CA"
            )
        }
    }

    /// The CA's private key as PKCS#8 PEM, for a backup. Handle it as a secret.
    ///
    /// - Returns: The `-----BEGIN PRIVATE KEY-----` block.
    public func exportPrivateKeyPEM() -> String {
        self.key.pkcs8PEM
    }

    /// A positive serial of exactly 20 bytes (RFC 5280 §4.1.2.2: at most 20 octets) with 158 random bits.
    static func randomSerialNumber() -> Certificate.SerialNumber {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[0] = bytes[0] & 0x7f | 0x40
        return Certificate.SerialNumber(bytes: bytes)
    }

    static func validateName(_ name: String, what: String) throws(PKIError) {
        // X.520 upper bound ub-common-name / ub-organization-name: 64 characters.
        guard !name.isEmpty, name.count <= 64 else {
            throw PKIError(.invalidName, reason: "the \(what) must be 1 to 64 characters, got \(name.count)")
        }
    }
}

extension CertificateAuthority: CustomStringConvertible {
    /// The CA certificate's description; never the key.
    public var description: String { "CertificateAuthority(\(self.certificate))" }
}
