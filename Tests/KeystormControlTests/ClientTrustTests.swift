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
import KMIPServer
import KeyStore
import KeystormControl
import KeystormPKI
import Synchronization
import Testing

@Suite("Client trust in force")
struct ClientTrustTests {
    @Test("loaded rules become anchors and identify pinned and CA-issued certificates; a removed rule stops both")
    func identifiesAndRevokes() async throws {
        let fixture = try await ControlFixture.make()
        let ca = try CertificateAuthority.create(commonName: "vCenter root CA")
        let caRule = try #require(
            try await fixture.control.trustCA(pem: ca.certificate.pem, tenant: "t1", label: nil).first
        )
        let issued = try await fixture.control.issue(name: "vc", tenant: "t1")
        let pinned = try PEMCertificate(pem: String(contentsOfFile: issued.certificatePath, encoding: .utf8))
        let byCA = try ca.issueClientCertificate(commonName: "host-1").certificate

        let installed = Mutex<[ClientTrust.Anchors]>([])
        let trust = ClientTrust(store: fixture.store)
        trust.onChange { anchors in installed.withLock { $0.append(anchors) } }
        try await trust.load()
        #expect(trust.anchors.caCertificates == [ca.certificate.pem])
        #expect(trust.anchors.pinnedFingerprints == [pinned.sha256Fingerprint])
        #expect(installed.withLock { $0.count } == 1)
        // Loading unchanged rules installs nothing.
        try await trust.load()
        #expect(installed.withLock { $0.count } == 1)

        let pinnedIdentity = try #require(trust.identify(fingerprint: pinned.sha256Fingerprint, der: pinned.derBytes))
        #expect(pinnedIdentity.tenantID == "t1")
        #expect(pinnedIdentity.ruleID == issued.rule.id)
        let caIdentity = try #require(trust.identify(fingerprint: byCA.sha256Fingerprint, der: byCA.derBytes))
        #expect(caIdentity.ruleID == caRule.id)
        let stranger = try CertificateAuthority.create(commonName: "stranger").issueClientCertificate(commonName: "x")
        #expect(
            trust.identify(fingerprint: stranger.certificate.sha256Fingerprint, der: stranger.certificate.derBytes)
                == nil
        )

        try trust.revoke(ruleID: caRule.id)
        #expect(!trust.admits(caIdentity))
        #expect(trust.admits(pinnedIdentity))
        #expect(trust.identify(fingerprint: byCA.sha256Fingerprint, der: byCA.derBytes) == nil)
        #expect(installed.withLock { $0.last?.caCertificates.isEmpty } == true)
    }

    @Test("when installing the anchors fails, the rules in force stay the old ones")
    func failedInstallKeepsOldRules() async throws {
        let fixture = try await ControlFixture.make()
        let trust = ClientTrust(store: fixture.store)
        try await trust.load()
        trust.onChange { _ in throw FixtureError("the TLS context refused the policy") }
        let issued = try await fixture.control.issue(name: "vc", tenant: "t1")
        await #expect(throws: FixtureError.self) { try await trust.load() }
        #expect(trust.anchors.pinnedFingerprints.isEmpty)
        #expect(
            !trust.admits(ClientIdentity(tenantID: "t1", fingerprint: issued.rule.fingerprint, ruleID: issued.rule.id))
        )
    }
}
