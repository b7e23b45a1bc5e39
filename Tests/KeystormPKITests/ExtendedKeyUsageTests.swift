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

@Suite("Extended key usage of client certificates", .enabled(if: OpenSSL.isAvailable, "needs /usr/bin/openssl"))
struct ExtendedKeyUsageTests {
    /// A self-signed certificate (as vCenter makes its own) with `extensions` as its only v3 extensions.
    private func certificate(extensions: [String]) throws -> PEMCertificate {
        let directory = try TemporaryDirectory()
        let config = try directory.write(
            """
            [req]
            distinguished_name = dn
            prompt = no
            x509_extensions = ext
            [dn]
            CN = vcenter.example.com
            [ext]
            basicConstraints = critical,CA:FALSE
            \(extensions.joined(separator: "\n"))

            """,
            to: "req.cnf"
        )
        _ = try OpenSSL.output(
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
                "-config", config, "-keyout", "vc.key", "-out", "vc.pem",
            ],
            in: directory
        )
        return try PEMCertificate(pem: directory.read("vc.pem"))
    }

    @Test("a certificate without the extension is unrestricted (RFC 5280 §4.2.1.12)")
    func absentExtensionPermitsClientAuth() throws {
        let certificate = try self.certificate(extensions: [])
        #expect(certificate.extendedKeyUsages.isEmpty)
        #expect(certificate.permitsExtendedKeyUsage(.clientAuth))
        #expect(!certificate.hasExtendedKeyUsage(.clientAuth))
    }

    @Test("an extension that lists clientAuth, or anyExtendedKeyUsage, permits it")
    func listedUsagePermits() throws {
        #expect(
            try self.certificate(extensions: ["extendedKeyUsage = clientAuth"]).permitsExtendedKeyUsage(.clientAuth)
        )
        #expect(
            try self.certificate(extensions: ["extendedKeyUsage = anyExtendedKeyUsage"])
                .permitsExtendedKeyUsage(.clientAuth)
        )
    }

    @Test("an extension present without clientAuth refuses it")
    func presentExtensionWithoutClientAuthRefuses() throws {
        let certificate = try self.certificate(extensions: ["extendedKeyUsage = serverAuth"])
        #expect(certificate.extendedKeyUsages == [.serverAuth])
        #expect(!certificate.permitsExtendedKeyUsage(.clientAuth))
        #expect(certificate.permitsExtendedKeyUsage(.serverAuth))
    }
}
