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
import RootKeys
import Testing

@Suite("Tenants")
struct TenantsTests {
    @Test("a tenant is created with a fresh Local root key and listed with its rule count")
    func createsTenant() async throws {
        let fixture = try await ControlFixture.make(tenant: nil)
        let tenant = try await fixture.control.createTenant(id: "acme", displayName: "ACME")
        #expect(tenant.rootKey.provider == "local")
        #expect(tenant.rootKey.version == 1)
        #expect(try await fixture.control.rootKeys.info(rootKeyID: tenant.rootKey.keyID).state == .active)
        let listed = try await fixture.control.tenants()
        #expect(listed.map(\.tenant.id) == ["acme"])
        #expect(listed.first?.clientRules == 0)
        #expect(listed.first?.tenant.displayName == "ACME")
    }

    @Test(
        "names that could climb out of the data directory or break the audit log are refused",
        arguments: ["", "..", "a/b", "a b", ".hidden", "\u{0430}dmin"]
    )
    func refusesNames(_ name: String) async throws {
        let fixture = try await ControlFixture.make(tenant: nil)
        await #expect(throws: ControlError(.invalidName, "")) {
            _ = try await fixture.control.createTenant(id: name, displayName: nil)
        }
        #expect(try await fixture.store.tenants().isEmpty)
    }

    @Test("a second tenant with the same id is refused as alreadyExists")
    func refusesDuplicate() async throws {
        let fixture = try await ControlFixture.make()
        await #expect(throws: ControlError(.alreadyExists, "")) {
            _ = try await fixture.control.createTenant(id: "t1", displayName: nil)
        }
    }

    @Test("an unknown tenant is notFound")
    func unknownTenant() async throws {
        let fixture = try await ControlFixture.make()
        await #expect(throws: ControlError(.notFound, "")) { _ = try await fixture.control.tenant("nope") }
        await #expect(throws: ControlError(.notFound, "")) { _ = try await fixture.control.clients(tenant: "nope") }
    }

    @Test("with tenants of another root-key service, create and a server start refuse, naming both services")
    func refusesProviderMismatch() async throws {
        let fixture = try await ControlFixture.make(tenant: nil)
        try await fixture.store.createTenant(
            Tenant(
                id: "kp",
                displayName: "kp",
                rootKey: RootKeyReference(provider: "keyprotect", keyID: "kp-root", version: 1),
                createdAt: 0
            )
        )
        let error = await #expect(throws: ControlError(.providerMismatch, "")) {
            _ = try await fixture.control.createTenant(id: "kp2", displayName: nil)
        }
        #expect(error?.reason.contains("local") == true, "\(error?.reason ?? "")")
        #expect(error?.reason.contains("keyprotect") == true, "\(error?.reason ?? "")")
        #expect(try await fixture.store.tenant(id: "kp2") == nil)
        let start = await #expect(throws: ControlError(.providerMismatch, "")) {
            try await fixture.control.requireProvider()
        }
        #expect(start?.reason.contains("'kp'") == true, "\(start?.reason ?? "")")
        // A root-key operation on it names both services too.
        await #expect(throws: ControlError(.providerMismatch, "")) {
            _ = try await fixture.control.rootKeyStatus(tenant: "kp")
        }
    }

    @Test("/readyz's check fails for a tenant this server's root-key service cannot serve")
    func readinessRefusesForeignProvider() async throws {
        let fixture = try await ControlFixture.make()
        let server = fixture.serverControl(rulesApplied: RuleCounter())
        let first = await server.readiness()
        #expect(first == .ready, "\(first)")

        let other = try await ControlFixture.make()
        try await other.store.createTenant(
            Tenant(
                id: "kp",
                displayName: "kp",
                rootKey: RootKeyReference(provider: "keyprotect", keyID: "kp-root", version: 1),
                createdAt: 0
            )
        )
        guard case .notReady(let reason) = await other.serverControl(rulesApplied: RuleCounter()).readiness() else {
            Issue.record("ready with a tenant of another root-key service")
            return
        }
        #expect(reason.contains("tenant kp cannot be served"), "\(reason)")
        #expect(reason.contains("keyprotect") && reason.contains("local"), "\(reason)")
    }
}
