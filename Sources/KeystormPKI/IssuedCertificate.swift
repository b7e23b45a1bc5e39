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

/// A certificate Keystorm issued together with the private key it generated for it.
///
/// For vCenter's "KMS certificate and private key" trust mode, upload ``certificate``'s
/// ``PEMCertificate/pem`` and ``privateKeyPEM`` (PKCS#8, `-----BEGIN PRIVATE KEY-----`).
/// The description never shows the key.
public struct IssuedCertificate: Sendable, CustomStringConvertible {
    /// The issued certificate.
    public let certificate: PEMCertificate
    /// The certificate's private key as PKCS#8 PEM. Handle it as a secret: Keystorm keeps no copy.
    public let privateKeyPEM: String

    init(certificate: PEMCertificate, privateKeyPEM: String) {
        self.certificate = certificate
        self.privateKeyPEM = privateKeyPEM
    }

    /// The certificate as PEM (shorthand for `certificate.pem`).
    public var certificatePEM: String { self.certificate.pem }

    /// Writes the certificate (mode `0644`) and the private key (mode `0600`), each atomically.
    ///
    /// - Parameters:
    ///   - certificatePath: Where to write the certificate PEM.
    ///   - privateKeyPath: Where to write the private key PEM.
    /// - Throws: ``PKIError/fileSystem``.
    public func save(certificatePath: String, privateKeyPath: String) throws(PKIError) {
        try PEMFile.writeText(self.privateKeyPEM, to: privateKeyPath, mode: 0o600)
        try PEMFile.writeText(self.certificate.pem, to: certificatePath, mode: 0o644)
    }

    public var description: String { "IssuedCertificate(\(self.certificate), private key redacted)" }
}
