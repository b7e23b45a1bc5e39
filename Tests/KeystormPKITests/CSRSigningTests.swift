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

@Suite("CSR signing", .enabled(if: OpenSSL.isAvailable, "needs /usr/bin/openssl"))
struct CSRSigningTests {
    /// vCenter generates RSA-2048 CSRs; ECDSA ones must work too.
    static let newKeyArguments: [[String]] = [
        ["-newkey", "rsa:2048"],
        ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
    ]

    private func makeCSR(in directory: TemporaryDirectory, newKey: [String] = newKeyArguments[0]) throws -> String {
        try OpenSSL.output(
            ["req", "-new"] + newKey + [
                "-nodes", "-keyout", "vc.key", "-out", "vc.csr",
                "-subj", "/C=US/ST=CA/O=VMware/OU=vCenter/CN=vcenter.example.com",
                "-addext", "subjectAltName=DNS:vcenter.example.com,IP:192.0.2.20",
                "-addext", "basicConstraints=critical,CA:TRUE",
            ],
            in: directory
        )
        return try directory.read("vc.csr")
    }

    @Test(
        "a CSR from openssl req is signed; the result verifies, keeps subject and key, and has clientAuth",
        arguments: newKeyArguments
    )
    func signsCSR(newKey: [String]) throws {
        let directory = try TemporaryDirectory()
        let clientCA = try CertificateAuthority.create(commonName: "Client CA")
        let csr = try self.makeCSR(in: directory, newKey: newKey)

        let certificate = try clientCA.signCSR(pem: csr, validity: .days(730))
        let caPath = try directory.write(clientCA.certificate.pem, to: "clientca.pem")
        let path = try directory.write(certificate.pem, to: "vc.pem")

        let verify = try OpenSSL.run(["verify", "-purpose", "sslclient", "-CAfile", caPath, path], in: directory)
        #expect(verify.stdout.contains("vc.pem: OK"), "\(verify.output)")
        let requested = try OpenSSL.output(["req", "-in", "vc.csr", "-noout", "-subject"], in: directory)
        let issued = try OpenSSL.output(["x509", "-in", path, "-noout", "-subject"], in: directory)
        #expect(issued == requested)
        #expect(issued.contains("CN = vcenter.example.com"))
        #expect(
            try OpenSSL.publicKey(ofPrivateKey: directory.file("vc.key"), in: directory)
                == OpenSSL.publicKey(ofCertificate: path, in: directory)
        )
        let text = try OpenSSL.text(ofCertificate: path, in: directory)
        #expect(text.contains("TLS Web Server Authentication, TLS Web Client Authentication"))
        #expect(text.contains("DNS:vcenter.example.com, IP Address:192.0.2.20"))
        // The requested CA flag is not honoured.
        #expect(text.contains("CA:FALSE"))
        #expect(!certificate.isCA)
        #expect(certificate.subject == "CN=vcenter.example.com,OU=vCenter,O=VMware,ST=CA,C=US")
        #expect(try certificate.matches(privateKeyPEM: directory.read("vc.key")))
    }

    @Test("a CSR whose signature bytes were altered is rejected with csrSignatureInvalid")
    func corruptedSignature() throws {
        let directory = try TemporaryDirectory()
        let clientCA = try CertificateAuthority.create(commonName: "Client CA")
        _ = try self.makeCSR(in: directory)
        try OpenSSL.output(["req", "-in", "vc.csr", "-outform", "DER", "-out", "vc.der"], in: directory)
        var der = try directory.readBytes("vc.der")
        der[der.count - 1] ^= 0x01  // the last byte belongs to the RSA signature
        expectPKIError(.csrSignatureInvalid) { try clientCA.signCSR(pem: Self.csrPEM(der)) }
    }

    @Test("a CSR whose subject was altered after signing is rejected with csrSignatureInvalid")
    func tamperedSubject() throws {
        let directory = try TemporaryDirectory()
        let clientCA = try CertificateAuthority.create(commonName: "Client CA")
        _ = try self.makeCSR(in: directory)
        try OpenSSL.output(["req", "-in", "vc.csr", "-outform", "DER", "-out", "vc.der"], in: directory)
        var der = try directory.readBytes("vc.der")
        let needle = Array("vcenter.example.com".utf8)
        let index = try #require(
            (0...(der.count - needle.count)).first { Array(der[$0..<($0 + needle.count)]) == needle }
        )
        der[index] = UInt8(ascii: "e")  // "ecenter.example.com": same length, still well-formed
        do {
            _ = try clientCA.signCSR(pem: Self.csrPEM(der))
            Issue.record("a tampered CSR was signed")
        } catch {
            #expect(error.code == .csrSignatureInvalid)
            #expect(error.reason.contains("ecenter.example.com"))
        }
    }

    @Test("text that is not a CSR gives a typed error")
    func notACSR() throws {
        let clientCA = try CertificateAuthority.create(commonName: "Client CA")
        expectPKIError(.invalidPEM) { try clientCA.signCSR(pem: "hello") }
        expectPKIError(.invalidPEM) { try clientCA.signCSR(pem: clientCA.certificate.pem) }
        expectPKIError(.invalidCSR) { try clientCA.signCSR(pem: Self.csrPEM([0x30, 0x03, 0x02, 0x01, 0x00])) }
    }

    static func csrPEM(_ der: [UInt8]) -> String {
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN CERTIFICATE REQUEST-----\n\(base64)\n-----END CERTIFICATE REQUEST-----\n"
    }
}
