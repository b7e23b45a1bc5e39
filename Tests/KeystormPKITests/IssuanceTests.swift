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

@Suite("Server and client certificates", .enabled(if: OpenSSL.isAvailable, "needs /usr/bin/openssl"))
struct IssuanceTests {
    @Test("a server certificate verifies as sslserver and shows both EKUs, the SANs and the key identifiers")
    func serverCertificate() throws {
        let directory = try TemporaryDirectory()
        let ca = try CertificateAuthority.create(commonName: "Server CA")
        let server = try ca.issueServerCertificate(
            commonName: "kms.example.com",
            dnsNames: ["kms.example.com", "localhost", "*.kms.example.com"],
            ipAddresses: ["127.0.0.1", "::1", "192.0.2.10"]
        )
        let caPath = try directory.write(ca.certificate.pem, to: "ca.pem")
        let path = try directory.write(server.certificatePEM, to: "server.pem")

        let verify = try OpenSSL.run(["verify", "-purpose", "sslserver", "-CAfile", caPath, path], in: directory)
        #expect(verify.stdout.contains("server.pem: OK"), "\(verify.output)")
        let asClient = try OpenSSL.run(["verify", "-purpose", "sslclient", "-CAfile", caPath, path], in: directory)
        #expect(asClient.succeeded, "ESXi needs serverAuth and clientAuth: \(asClient.output)")

        let text = try OpenSSL.text(ofCertificate: path, in: directory)
        #expect(text.contains("TLS Web Server Authentication, TLS Web Client Authentication"))
        #expect(text.contains("X509v3 Key Usage: critical"))
        #expect(text.contains("Digital Signature"))
        #expect(text.contains("CA:FALSE"))
        #expect(text.contains("X509v3 Authority Key Identifier"))
        #expect(text.contains("X509v3 Subject Key Identifier"))
        #expect(text.contains("DNS:kms.example.com"))
        #expect(text.contains("DNS:localhost"))
        #expect(text.contains("DNS:*.kms.example.com"))
        #expect(text.contains("IP Address:127.0.0.1"))
        #expect(text.contains("IP Address:0:0:0:0:0:0:0:1"))
        #expect(text.contains("IP Address:192.0.2.10"))
        #expect(text.contains("Subject: O = Keystorm, CN = kms.example.com"))

        // The key file is PKCS#8 and belongs to the certificate.
        #expect(server.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        let keyPath = try directory.write(server.privateKeyPEM, to: "server.key")
        #expect(
            try OpenSSL.publicKey(ofPrivateKey: keyPath, in: directory)
                == OpenSSL.publicKey(ofCertificate: path, in: directory)
        )
        #expect(try server.certificate.matches(privateKeyPEM: server.privateKeyPEM))

        // The same facts through the Swift API.
        let certificate = server.certificate
        #expect(certificate.hasExtendedKeyUsage(.serverAuth))
        #expect(certificate.hasExtendedKeyUsage(.clientAuth))
        #expect(!certificate.isCA)
        #expect(certificate.isIssued(by: ca.certificate))
        #expect(!certificate.isSelfSigned)
        #expect(certificate.dnsNames == ["kms.example.com", "localhost", "*.kms.example.com"])
        #expect(certificate.ipAddresses == ["127.0.0.1", "::1", "192.0.2.10"])
        #expect(certificate.issuer == ca.certificate.subject)
    }

    @Test("the default SANs are localhost, 127.0.0.1 and ::1, plus the common name when it is a host name")
    func defaultAlternativeNames() throws {
        let ca = try CertificateAuthority.create(commonName: "Defaults CA")
        let server = try ca.issueServerCertificate(commonName: "keystorm-1")
        #expect(server.certificate.dnsNames == ["localhost", "keystorm-1"])
        #expect(server.certificate.ipAddresses == ["127.0.0.1", "::1"])
        let spaced = try ca.issueServerCertificate(commonName: "Keystorm KMIP server")
        #expect(spaced.certificate.dnsNames == ["localhost"])
    }

    @Test("bad DNS names and IP addresses are refused")
    func invalidAlternativeNames() throws {
        let ca = try CertificateAuthority.create(commonName: "Strict CA")
        expectPKIError(.invalidSubjectAlternativeName) {
            try ca.issueServerCertificate(commonName: "x", dnsNames: ["bad name"])
        }
        expectPKIError(.invalidSubjectAlternativeName) {
            try ca.issueServerCertificate(commonName: "x", dnsNames: ["-leading.example"])
        }
        expectPKIError(.invalidSubjectAlternativeName) {
            try ca.issueServerCertificate(commonName: "x", ipAddresses: ["300.1.1.1"])
        }
    }

    @Test(
        "a client certificate for vCenter verifies as sslclient and its PKCS#8 key matches",
        arguments: [
            KeyAlgorithm.ecdsaP256, KeyAlgorithm.rsa2048,
        ]
    )
    func clientCertificate(keyAlgorithm: KeyAlgorithm) throws {
        let directory = try TemporaryDirectory()
        let clientCA = try CertificateAuthority.create(commonName: "Client CA")
        let issued = try clientCA.issueClientCertificate(
            commonName: "vcenter-prod",
            validity: .days(365),
            keyAlgorithm: keyAlgorithm
        )
        let caPath = try directory.write(clientCA.certificate.pem, to: "clientca.pem")
        let path = try directory.write(issued.certificatePEM, to: "client.pem")
        let keyPath = try directory.write(issued.privateKeyPEM, to: "client.key")

        let verify = try OpenSSL.run(["verify", "-purpose", "sslclient", "-CAfile", caPath, path], in: directory)
        #expect(verify.stdout.contains("client.pem: OK"), "\(verify.output)")
        #expect(issued.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(issued.privateKeyPEM.hasSuffix("-----END PRIVATE KEY-----\n"))
        #expect(
            try OpenSSL.publicKey(ofPrivateKey: keyPath, in: directory)
                == OpenSSL.publicKey(ofCertificate: path, in: directory)
        )
        let keyText = try OpenSSL.output(["pkey", "-in", keyPath, "-noout", "-text"], in: directory)
        let text = try OpenSSL.text(ofCertificate: path, in: directory)
        #expect(text.contains("TLS Web Client Authentication"))
        #expect(text.contains("Subject: O = Keystorm, CN = vcenter-prod"))
        if keyAlgorithm == .rsa2048 {
            #expect(keyText.contains("Private-Key: (2048 bit"))
            #expect(text.contains("Digital Signature, Key Encipherment"))
            #expect(issued.certificate.publicKeyAlgorithm == "RSA-2048")
        } else {
            #expect(keyText.contains("prime256v1"))
            #expect(issued.certificate.publicKeyAlgorithm == "ECDSA P-256")
        }
        #expect(issued.certificate.hasExtendedKeyUsage(.clientAuth))
        #expect(issued.certificate.commonName == "vcenter-prod")
        #expect(issued.certificate.dnsNames.isEmpty)
        let other = try clientCA.issueClientCertificate(commonName: "other", keyAlgorithm: keyAlgorithm)
        #expect(try issued.certificate.matches(privateKeyPEM: issued.privateKeyPEM))
        #expect(try !issued.certificate.matches(privateKeyPEM: other.privateKeyPEM))
    }

    @Test("a fixed validity window is honoured, and an expired certificate fails openssl verify")
    func validityWindow() throws {
        let directory = try TemporaryDirectory()
        let ca = try CertificateAuthority.create(commonName: "Window CA")
        let now = Int64(Date().timeIntervalSince1970)
        let expired = try ca.issueClientCertificate(
            commonName: "expired",
            validity: CertificateValidity(notBeforeUnixSeconds: now - 7200, notAfterUnixSeconds: now - 3600)
        )
        #expect(expired.certificate.notAfterUnixSeconds == now - 3600)
        #expect(!expired.certificate.isValid(atUnixSeconds: now))
        #expect(expired.certificate.isValid(atUnixSeconds: now - 5000))
        let caPath = try directory.write(ca.certificate.pem, to: "ca.pem")
        let path = try directory.write(expired.certificatePEM, to: "expired.pem")
        let verify = try OpenSSL.run(["verify", "-CAfile", caPath, path], in: directory)
        #expect(!verify.succeeded)
        #expect(verify.output.contains("certificate has expired"))

        let fixed = try ca.issueClientCertificate(
            commonName: "fixed",
            validity: CertificateValidity(notBeforeUnixSeconds: 1_800_000_000, notAfterUnixSeconds: 1_800_086_400)
        )
        #expect(fixed.certificate.notBefore == "2027-01-15T08:00:00Z")
        #expect(fixed.certificate.notAfter == "2027-01-16T08:00:00Z")
        let fixedPath = try directory.write(fixed.certificatePEM, to: "fixed.pem")
        let dates = try OpenSSL.output(["x509", "-in", fixedPath, "-noout", "-dates"], in: directory)
        #expect(dates.contains("notBefore=Jan 15 08:00:00 2027 GMT"))
        #expect(dates.contains("notAfter=Jan 16 08:00:00 2027 GMT"))
    }

    @Test("a certificate never outlives its CA")
    func clampedToAuthority() throws {
        let ca = try CertificateAuthority.create(commonName: "Short CA", validity: .days(10))
        let leaf = try ca.issueServerCertificate(commonName: "long-lived", validity: .days(3650))
        #expect(leaf.certificate.notAfterUnixSeconds == ca.certificate.notAfterUnixSeconds)
    }
}
