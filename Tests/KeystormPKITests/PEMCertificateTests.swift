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

@Suite("PEMCertificate", .enabled(if: OpenSSL.isAvailable, "needs /usr/bin/openssl"))
struct PEMCertificateTests {
    @Test("the SHA-256 fingerprint equals openssl x509 -fingerprint -sha256, normalised")
    func fingerprint() throws {
        let directory = try TemporaryDirectory()
        let ca = try CertificateAuthority.create(commonName: "Fingerprint CA")
        let ours = try ca.issueServerCertificate(commonName: "fp")
        try OpenSSL.output(
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "o.key", "-out", "openssl.pem",
                "-subj", "/CN=made by openssl", "-days", "1",
            ],
            in: directory
        )
        let theirs = try PEMCertificate(pem: directory.read("openssl.pem"))
        for (certificate, name) in [(ours.certificate, "ours.pem"), (theirs, "theirs.pem")] {
            let path = try directory.write(certificate.pem, to: name)
            let printed = try OpenSSL.output(["x509", "-in", path, "-noout", "-fingerprint", "-sha256"], in: directory)
            #expect(printed.lowercased().hasPrefix("sha256 fingerprint="))
            #expect(PEMCertificate.normalizedFingerprint(printed) == certificate.sha256Fingerprint)
            #expect(certificate.sha256Fingerprint.count == 64)
            #expect(certificate.sha256Fingerprint == certificate.sha256Fingerprint.lowercased())
        }
        #expect(theirs.isSelfSigned)
        #expect(theirs.isCA)  // openssl req -x509 adds CA:TRUE
        #expect(theirs.commonName == "made by openssl")
        #expect(theirs.publicKeyAlgorithm == "RSA-2048")
    }

    @Test("fingerprint normalisation accepts the usual spellings and refuses others")
    func normalisation() {
        let hex = String(repeating: "ab", count: 32)
        let colons = (0..<32).map { _ in "AB" }.joined(separator: ":")
        #expect(PEMCertificate.normalizedFingerprint(hex) == hex)
        #expect(PEMCertificate.normalizedFingerprint(colons) == hex)
        #expect(PEMCertificate.normalizedFingerprint("SHA256 Fingerprint=\(colons)\n") == hex)
        #expect(PEMCertificate.normalizedFingerprint("ab ab " + String(repeating: "ab", count: 30)) == hex)
        #expect(PEMCertificate.normalizedFingerprint(String(hex.dropLast())) == nil)
        #expect(PEMCertificate.normalizedFingerprint(String(repeating: "g", count: 64)) == nil)
    }

    @Test("a PEM bundle with two certificates (and a key and bag attributes between) parses to two, in order")
    func bundle() throws {
        let directory = try TemporaryDirectory()
        let ca = try CertificateAuthority.create(commonName: "Bundle CA")
        let leaf = try ca.issueServerCertificate(commonName: "bundle-leaf")
        let text =
            "Bag Attributes\n    friendlyName: leaf\nsubject=/CN=bundle-leaf\n" + leaf.certificatePEM
            + leaf.privateKeyPEM + "\r\n" + ca.certificate.pem.replacingOccurrences(of: "\n", with: "\r\n")
        let parsed = try PEMCertificate.parseBundle(text)
        #expect(parsed.count == 2)
        #expect(parsed == [leaf.certificate, ca.certificate])
        #expect(parsed[0].isIssued(by: parsed[1]))
        #expect(!parsed[1].isIssued(by: parsed[0]))

        // OpenSSL agrees: the chain file verifies the leaf, and the bundle we write reads back.
        let chainPath = try directory.write(PEMCertificate.bundle(parsed), to: "chain.pem")
        let untrusted = try directory.write(parsed[1].pem, to: "ca.pem")
        let verify = try OpenSSL.run(["verify", "-CAfile", untrusted, chainPath], in: directory)
        #expect(verify.succeeded, "\(verify.output)")
        #expect(try PEMCertificate.parseBundle(directory.read("chain.pem")).count == 2)

        expectPKIError(.invalidPEM) { try PEMCertificate(pem: text) }
        expectPKIError(.invalidPEM) { try PEMCertificate.parseBundle(leaf.privateKeyPEM) }
        expectPKIError(.invalidPEM) { try PEMCertificate.parseBundle("no pem here") }
    }

    @Test("DER and PEM convert both ways, byte for byte as openssl writes them")
    func derAndPEM() throws {
        let directory = try TemporaryDirectory()
        let ca = try CertificateAuthority.create(commonName: "DER CA")
        let pemPath = try directory.write(ca.certificate.pem, to: "ca.pem")
        try OpenSSL.output(["x509", "-in", pemPath, "-outform", "DER", "-out", "ca.der"], in: directory)
        let der = try directory.readBytes("ca.der")
        #expect(der == ca.certificate.derBytes)
        let fromDER = try PEMCertificate(derBytes: der)
        #expect(fromDER == ca.certificate)
        let rewritten = try OpenSSL.output(["x509", "-in", "ca.der", "-inform", "DER"], in: directory)
        #expect(fromDER.pem == rewritten)

        expectPKIError(.invalidCertificate) { try PEMCertificate(derBytes: [0x30, 0x00]) }
        expectPKIError(.invalidCertificate) { try PEMCertificate(derBytes: Array(der.dropLast())) }
    }

    @Test("display strings: subject, issuer, serial and dates agree with openssl")
    func display() throws {
        let directory = try TemporaryDirectory()
        let ca = try CertificateAuthority.create(commonName: "Display CA", organization: "Example, Inc.")
        let leaf = try ca.issueClientCertificate(commonName: "display")
        let path = try directory.write(leaf.certificatePEM, to: "leaf.pem")
        let printed = try OpenSSL.output(
            ["x509", "-in", path, "-noout", "-serial", "-enddate", "-nameopt", "RFC2253", "-subject", "-issuer"],
            in: directory
        )
        #expect(printed.contains("serial=\(leaf.certificate.serialNumber.uppercased())"))
        #expect(printed.contains("subject=\(leaf.certificate.subject)"))
        #expect(printed.contains("issuer=\(leaf.certificate.issuer)"))
        #expect(leaf.certificate.subject == #"CN=display,O=Example\, Inc."#)
        #expect(leaf.certificate.description.contains(leaf.certificate.sha256Fingerprint))
        #expect(leaf.certificate.notAfter.hasSuffix("Z"))
        #expect(leaf.certificate.notBeforeUnixSeconds < leaf.certificate.notAfterUnixSeconds)
        #expect(leaf.certificate.extendedKeyUsages == [.serverAuth, .clientAuth])
        #expect(!ca.certificate.hasExtendedKeyUsage(.clientAuth))
    }
}
