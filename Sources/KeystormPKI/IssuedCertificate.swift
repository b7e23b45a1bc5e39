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

    /// Writes the certificate (mode `0644`) and the private key (mode `0600`), each atomically and
    /// exclusively: neither file may exist yet (an existing file is never replaced).
    ///
    /// - Parameters:
    ///   - certificatePath: Where to write the certificate PEM.
    ///   - privateKeyPath: Where to write the private key PEM.
    ///   - chain: PEM certificates written after the certificate (its issuing CA, for a server).
    /// - Throws: ``PKIError/fileSystem``, also when either file exists.
    public func save(certificatePath: String, privateKeyPath: String, chain: String = "") throws(PKIError) {
        guard !PEMFile.exists(certificatePath) else {
            throw PKIError(
                .fileSystem,
                reason: "\(certificatePath) already exists; Keystorm never replaces a certificate file"
            )
        }
        try PEMFile.writeText(self.privateKeyPEM, to: privateKeyPath, mode: 0o600)
        try PEMFile.writeText(self.certificate.pem + chain, to: certificatePath, mode: 0o644)
    }

    public var description: String { "IssuedCertificate(\(self.certificate), private key redacted)" }
}
