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
import KeyStore
import KeystormControl
import KeystormPKI
import Testing

@Suite("Client rules", .enabled(if: OpenSSL.isAvailable, "needs /usr/bin/openssl"))
struct ClientsTests {
    @Test("a pinned certificate without the extended-key-usage extension is accepted (RFC 5280: unrestricted)")
    func pinsCertificateWithoutEKU() async throws {
        let fixture = try await ControlFixture.make()
        let pem = try OpenSSL.selfSigned(extensions: [])
        let rule = try await fixture.control.pin(pem: pem, tenant: "t1", label: "vc")
        #expect(rule.kind == .pinnedCertificate)
        #expect(rule.fingerprint == (try PEMCertificate(pem: pem)).sha256Fingerprint)
        #expect(try await fixture.control.clients(tenant: "t1").map(\.id) == [rule.id])
        // Pinning it again is refused.
        await #expect(throws: ControlError(.alreadyExists, "")) {
            _ = try await fixture.control.pin(pem: pem, tenant: "t1", label: nil)
        }
    }

    @Test("a label over 256 characters or with a line break is a bad request, and adds no rule")
    func labelsAreBounded() async throws {
        let fixture = try await ControlFixture.make()
        let pem = try OpenSSL.selfSigned(extensions: [])
        for label in [String(repeating: "a", count: 300 * 1024), "vc\nforged line"] {
            await #expect(throws: ControlError(.badRequest, "")) {
                _ = try await fixture.control.pin(pem: pem, tenant: "t1", label: label)
            }
        }
        #expect(try await fixture.control.clients(tenant: "t1").isEmpty)
        _ = try await fixture.control.pin(pem: pem, tenant: "t1", label: String(repeating: "a", count: 256))
    }

    @Test("a certificate whose extended key usage leaves out clientAuth is refused")
    func refusesServerOnlyCertificate() async throws {
        let fixture = try await ControlFixture.make()
        let pem = try OpenSSL.selfSigned(extensions: ["extendedKeyUsage = serverAuth"])
        let error = await #expect(throws: ControlError(.badRequest, "")) {
            _ = try await fixture.control.pin(pem: pem, tenant: "t1", label: nil)
        }
        #expect(error?.reason.contains("without clientAuth") == true)
        #expect(try await fixture.control.clients(tenant: nil).isEmpty)
    }

    @Test("a CA is trusted with --ca; a non-CA certificate or no certificate is a bad request")
    func trustsCA() async throws {
        let fixture = try await ControlFixture.make()
        let ca = try CertificateAuthority.create(commonName: "vCenter root CA")
        let rules = try await fixture.control.trustCA(pem: ca.certificate.pem, tenant: "t1", label: nil)
        #expect(rules.map(\.kind) == [.trustedCA])
        #expect(rules.first?.label == "vCenter root CA")
        await #expect(throws: ControlError(.badRequest, "")) {
            _ = try await fixture.control.trustCA(pem: try OpenSSL.selfSigned(extensions: []), tenant: "t1", label: nil)
        }
        await #expect(throws: ControlError(.badRequest, "")) {
            _ = try await fixture.control.trustCA(pem: "not a certificate", tenant: "t1", label: nil)
        }
        await #expect(throws: ControlError(.notFound, "")) {
            _ = try await fixture.control.trustCA(pem: ca.certificate.pem, tenant: "nope", label: nil)
        }
    }

    @Test("a rule is removed once; removing it again is notFound")
    func removesRule() async throws {
        let fixture = try await ControlFixture.make()
        let rule = try await fixture.control.pin(pem: try OpenSSL.selfSigned(extensions: []), tenant: "t1", label: nil)
        try await fixture.control.removeClient(id: rule.id)
        #expect(try await fixture.store.clients(tenantID: nil).isEmpty)
        await #expect(throws: ControlError(.notFound, "")) { try await fixture.control.removeClient(id: rule.id) }
    }

    @Test("issue writes a certificate and key signed by the client CA and pins it; the same name again is refused")
    func issuesClient() async throws {
        let fixture = try await ControlFixture.make()
        let issued = try await fixture.control.issue(name: "vcenter-01", tenant: "t1")
        #expect(issued.certificatePath == fixture.layout.clientDirectory(tenant: "t1") + "/vcenter-01.pem")
        let certificate = try PEMCertificate(pem: String(contentsOfFile: issued.certificatePath, encoding: .utf8))
        #expect(certificate.isIssued(by: try fixture.layout.clientCA().certificate))
        #expect(certificate.sha256Fingerprint == issued.rule.fingerprint)
        #expect(FileManager.default.fileExists(atPath: issued.keyPath))
        await #expect(throws: ControlError(.alreadyExists, "")) {
            _ = try await fixture.control.issue(name: "vcenter-01", tenant: "t1")
        }
        await #expect(throws: ControlError(.invalidName, "")) {
            _ = try await fixture.control.issue(name: "../escape", tenant: "t1")
        }
    }

    @Test("sign-csr signs vCenter's CSR with the client CA and pins the result; garbage is a bad request")
    func signsCSR() async throws {
        let fixture = try await ControlFixture.make()
        let signed = try await fixture.control.signCSR(
            pem: try OpenSSL.csr(commonName: "vcenter.example.com"),
            tenant: "t1",
            label: nil
        )
        let certificate = try PEMCertificate(pem: signed.certificatePEM)
        #expect(certificate.commonName == "vcenter.example.com")
        #expect(signed.subject == certificate.subject)
        #expect(certificate.isIssued(by: try fixture.layout.clientCA().certificate))
        #expect(signed.rule.fingerprint == certificate.sha256Fingerprint)
        #expect(signed.rule.label == "vcenter.example.com")
        #expect(try await fixture.control.clients(tenant: "t1").map(\.id) == [signed.rule.id])
        await #expect(throws: ControlError(.badRequest, "")) {
            _ = try await fixture.control.signCSR(
                pem: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
                tenant: "t1",
                label: nil
            )
        }
    }

    @Test("in the server, a rule added by pin, CA, issue or sign-csr is applied before the call returns")
    func serverAppliesRulesBeforeReturning() async throws {
        let fixture = try await ControlFixture.make()
        let applied = RuleCounter()
        let server = fixture.serverControl(rulesApplied: applied)
        _ = try await server.addClient(ca: false, pem: try OpenSSL.selfSigned(extensions: []), tenant: "t1", label: nil)
        #expect(applied.value == 1)
        _ = try await server.addClient(
            ca: true,
            pem: try CertificateAuthority.create(commonName: "CA").certificate.pem,
            tenant: "t1",
            label: nil
        )
        #expect(applied.value == 2)
        _ = try await server.issueClient(name: "vc", tenant: "t1")
        #expect(applied.value == 3)
        _ = try await server.signCSR(pem: try OpenSSL.csr(commonName: "vc2"), tenant: "t1", label: nil)
        #expect(applied.value == 4)
        // A refused rule applies nothing.
        await #expect(throws: ControlError(.notFound, "")) {
            _ = try await server.issueClient(name: "vc", tenant: "nope")
        }
        #expect(applied.value == 4)
    }
}
