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

import KMIPServer
import KeyStore
import KeystormControl
import RootKeys
import Testing

@Suite("Keys admin")
struct KeysTests {
    @Test("keys list shows each key with its state and root-key version; shredded keys show as Shredded")
    func listsKeysAndShredded() async throws {
        let fixture = try await ControlFixture.make()
        let first = try await fixture.createKey()
        let second = try await fixture.createKey()
        let listing = try await fixture.control.keys(tenant: "t1", limit: 10)
        #expect(listing.total == 2)
        #expect(Set(listing.keys.map(\.uniqueIdentifier)) == [first, second])
        #expect(listing.keys.allSatisfy { $0.state != "Shredded" && !$0.shredded && $0.rootKeyVersion == 1 })
        #expect(listing.keys.allSatisfy { $0.objectType == "SymmetricKey" })

        _ = try await fixture.control.deleteRootKey(tenant: "t1")
        let shredded = try await fixture.control.keys(tenant: "t1", limit: 10)
        #expect(shredded.keys.map(\.state) == ["Shredded", "Shredded"])
        #expect(shredded.keys.allSatisfy { $0.shredded })
    }

    @Test("keys list is limited and counts every key")
    func listIsLimited() async throws {
        let fixture = try await ControlFixture.make()
        for _ in 0..<3 { _ = try await fixture.createKey() }
        let listing = try await fixture.control.keys(tenant: "t1", limit: 2)
        #expect(listing.keys.count == 2)
        #expect(listing.total == 3)
        await #expect(throws: ControlError(.notFound, "")) {
            _ = try await fixture.control.keys(tenant: "nope", limit: 1)
        }
    }

    @Test("an Active key cannot be destroyed (conflict); revoked, it can; an unknown key is notFound")
    func revokesAndDestroys() async throws {
        let fixture = try await ControlFixture.make()
        let uid = try await fixture.createKey()
        #expect(try await fixture.store.object(tenantID: "t1", uniqueIdentifier: uid)?.state == 2)  // Active
        await #expect(throws: ControlError(.conflict, "")) {
            try await fixture.control.destroyKey(tenant: "t1", uniqueIdentifier: uid)
        }
        try await fixture.control.revokeKey(tenant: "t1", uniqueIdentifier: uid, compromised: false)
        #expect(try await fixture.store.object(tenantID: "t1", uniqueIdentifier: uid)?.state == 3)  // Deactivated
        try await fixture.control.destroyKey(tenant: "t1", uniqueIdentifier: uid)
        let destroyed = try #require(try await fixture.store.object(tenantID: "t1", uniqueIdentifier: uid))
        #expect(destroyed.wrappedKey == nil)
        await #expect(throws: ControlError(.notFound, "")) {
            try await fixture.control.revokeKey(tenant: "t1", uniqueIdentifier: "no-such-key", compromised: true)
        }
        await #expect(throws: ControlError(.notFound, "")) {
            try await fixture.control.destroyKey(tenant: "nope", uniqueIdentifier: uid)
        }
    }
}

@Suite("Root-key lifecycle")
struct RootKeyLifecycleTests {
    @Test("status shows the Local root key active at version 1 with its keys per version")
    func status() async throws {
        let fixture = try await ControlFixture.make()
        _ = try await fixture.createKey()
        let status = try await fixture.control.rootKeyStatus(tenant: "t1")
        #expect(status.provider == "local")
        #expect(status.state == .active)
        #expect(status.currentVersion == 1)
        #expect(status.census.keysByVersion == [1: 1])
        #expect(status.keysOnOlderVersions == 0)
    }

    @Test("rotate records the new version on the tenant and counts the keys left to re-wrap")
    func rotates() async throws {
        let fixture = try await ControlFixture.make()
        _ = try await fixture.createKey()
        _ = try await fixture.createKey()
        let status = try await fixture.control.rotateRootKey(tenant: "t1")
        #expect(status.recordedVersion == 2)
        #expect(status.currentVersion == 2)
        #expect(status.keysOnOlderVersions == 2)
        #expect(try await fixture.store.tenant(id: "t1")?.rootKey.version == 2)
    }

    @Test("delete shreds; rotating or deleting a deleted root key is one clear rootKeyDeleted line")
    func deletedRootKey() async throws {
        let fixture = try await ControlFixture.make()
        let deleted = try await fixture.control.deleteRootKey(tenant: "t1")
        #expect(deleted.state == .deleted)
        #expect(try await fixture.control.rootKeyStatus(tenant: "t1").state == .deleted)

        let rotate = await #expect(throws: ControlError(.rootKeyDeleted, "")) {
            _ = try await fixture.control.rotateRootKey(tenant: "t1")
        }
        #expect(
            rotate?.reason
                == "cannot rotate the root key of tenant 't1': it is deleted, and its keys are crypto-shredded"
        )
        let again = await #expect(throws: ControlError(.rootKeyDeleted, "")) {
            _ = try await fixture.control.deleteRootKey(tenant: "t1")
        }
        #expect(again?.reason.contains("already deleted") == true)
        #expect(again?.reason.contains("RootKeyError") == false)
    }

    @Test("an unknown tenant is notFound for every root-key operation")
    func unknownTenant() async throws {
        let fixture = try await ControlFixture.make()
        await #expect(throws: ControlError(.notFound, "")) { _ = try await fixture.control.rootKeyStatus(tenant: "x") }
        await #expect(throws: ControlError(.notFound, "")) { _ = try await fixture.control.rotateRootKey(tenant: "x") }
        await #expect(throws: ControlError(.notFound, "")) { _ = try await fixture.control.deleteRootKey(tenant: "x") }
    }
}
