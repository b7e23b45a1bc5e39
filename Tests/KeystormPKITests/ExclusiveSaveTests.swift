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
import KeystormPKI
import Testing

/// Files that hold secrets are created, never replaced: a name that lands on another file (the
/// master key, another client's key) fails instead of overwriting it.
@Suite("Exclusive saves")
struct ExclusiveSaveTests {
    @Test func anIssuedCertificateNeverReplacesAFile() throws {
        let directory = try TemporaryDirectory()
        let ca = try CertificateAuthority.create(commonName: "Exclusive CA")
        let precious = "master key material, not to be touched\n"
        let masterPath = try directory.write(precious, to: "master.key")

        // The key path is an existing file: refused, and the file is unchanged.
        let issued = try ca.issueClientCertificate(commonName: "master")
        #expect(throws: PKIError.self) {
            try issued.save(certificatePath: directory.file("master.pem"), privateKeyPath: masterPath)
        }
        #expect(try directory.read("master.key") == precious)

        // A second save under the same names fails; the first files stay as they were.
        try issued.save(certificatePath: directory.file("client.pem"), privateKeyPath: directory.file("client.key"))
        let firstKey = try directory.read("client.key")
        let again = try ca.issueClientCertificate(commonName: "client")
        #expect(throws: PKIError.self) {
            try again.save(certificatePath: directory.file("client.pem"), privateKeyPath: directory.file("client.key"))
        }
        #expect(try directory.read("client.key") == firstKey)
        #expect(try directory.read("client.pem") == issued.certificatePEM)

        // No temporary file is left behind by the refusals.
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["client.key", "client.pem", "master.key"])
    }

    @Test func aCANeverReplacesAFile() throws {
        let directory = try TemporaryDirectory()
        let ca = try CertificateAuthority.create(commonName: "First CA")
        try ca.save(certificatePath: directory.file("ca.pem"), privateKeyPath: directory.file("ca.key"))
        let key = try directory.read("ca.key")
        let second = try CertificateAuthority.create(commonName: "Second CA")
        #expect(throws: PKIError.self) {
            try second.save(certificatePath: directory.file("ca.pem"), privateKeyPath: directory.file("ca.key"))
        }
        #expect(try directory.read("ca.key") == key)
    }

    /// A certificate chain is written after the certificate, in one file of mode 0644.
    @Test func aChainFollowsTheCertificate() throws {
        let directory = try TemporaryDirectory()
        let ca = try CertificateAuthority.create(commonName: "Chain CA")
        let server = try ca.issueServerCertificate(commonName: "localhost")
        try server.save(
            certificatePath: directory.file("server.pem"),
            privateKeyPath: directory.file("server.key"),
            chain: ca.certificate.pem
        )
        #expect(try directory.read("server.pem") == server.certificatePEM + ca.certificate.pem)
        let mode =
            try FileManager.default.attributesOfItem(atPath: directory.file("server.pem"))[.posixPermissions] as? Int
        #expect(mode == 0o644)
        let keyMode =
            try FileManager.default.attributesOfItem(atPath: directory.file("server.key"))[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
    }
}
