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

import KMIPCodec
import KMIPModel
import KMIPServer
import KeyStore
import KeystormTestSupport
import Testing

@Suite("Lifecycle")
struct LifecycleTests {
    @Test(arguments: [ProtocolVersion.v1_1, .v1_4, .v2_0, .v2_1])
    func destroyingAnActiveKeyIsRefusedWithTheVersionsReason(version: ProtocolVersion) async throws {
        let server = try await TestServer.make()
        let uid = try await server.createKey(version: version)
        #expect(try await server.call(ActivateRequest(uniqueIdentifier: uid), version: version).resultStatus == .success)
        let refused = try await server.call(DestroyRequest(uniqueIdentifier: uid), version: version)
        expectFailure(refused, version.major >= 2 ? .wrongKeyLifecycleState : .permissionDenied)
        // Revoke, then Destroy works, and Get no longer returns the key.
        let revoked = try await server.call(
            RevokeRequest(uniqueIdentifier: uid, revocationReason: RevocationReason(code: .cessationOfOperation)),
            version: version
        )
        #expect(revoked.resultStatus == .success)
        #expect(try await server.call(DestroyRequest(uniqueIdentifier: uid), version: version).resultStatus == .success)
        let gone = try await server.call(GetRequest(uniqueIdentifier: uid), version: version)
        expectFailure(gone, version.major >= 2 ? .objectDestroyed : .itemNotFound)
    }

    @Test func revokeForCompromiseMarksTheKeyCompromised() async throws {
        let server = try await TestServer.make()
        let uid = try await server.createKey()
        _ = try await server.call(ActivateRequest(uniqueIdentifier: uid))
        let revoked = try await server.call(
            RevokeRequest(uniqueIdentifier: uid, revocationReason: RevocationReason(code: .keyCompromise), compromiseOccurrenceDate: 6)
        )
        #expect(revoked.resultStatus == .success)
        let item = try await server.call(GetAttributesRequest(uniqueIdentifier: uid, attributeNames: [.standard(.state), .standard(.compromiseOccurrenceDate)]))
        guard case .getAttributes(let payload)? = item.payload else {
            Issue.record("no attributes")
            return
        }
        #expect(payload.attributes.contains(Attribute(.state, .enumeration(State.compromised.rawValue))))
        #expect(payload.attributes.contains(Attribute(.compromiseOccurrenceDate, .dateTime(6))))
    }

    @Test func activatingTwiceIsRefused() async throws {
        let server = try await TestServer.make()
        let uid = try await server.createKey()
        #expect(try await server.call(ActivateRequest(uniqueIdentifier: uid)).resultStatus == .success)
        expectFailure(try await server.call(ActivateRequest(uniqueIdentifier: uid)), .permissionDenied)
    }

    @Test func unknownIdentifierIsItemNotFound() async throws {
        let server = try await TestServer.make()
        expectFailure(try await server.call(GetRequest(uniqueIdentifier: "no-such-key")), .itemNotFound)
        expectFailure(try await server.call(ActivateRequest(uniqueIdentifier: "no-such-key")), .itemNotFound)
    }

    @Test func keysAreStoredOnlyWrapped() async throws {
        let server = try await TestServer.make()
        let uid = try await server.createKey()
        let item = try await server.call(GetRequest(uniqueIdentifier: uid))
        guard case .get(let get)? = item.payload, let key = get.object.keyBlock?.keyMaterialBytes else {
            Issue.record("no key")
            return
        }
        let stored = try #require(try await server.store.object(tenantID: "tenant-a", uniqueIdentifier: uid.text ?? ""))
        let wrapped = try #require(stored.wrappedKey)
        #expect(wrapped.ciphertext.count > key.count)
        // The plaintext key appears nowhere in the stored row.
        for start in 0...(wrapped.ciphertext.count - key.count) {
            #expect(Array(wrapped.ciphertext[start..<(start + key.count)]) != key)
        }
        #expect(!stored.attributes.windows(ofCount: key.count).contains { Array($0) == key })
    }

    /// An Activation Date that passes moves the key to Active the next time it is used, and the
    /// operation that noticed it still succeeds.
    @Test func aPassedActivationDateActivatesTheKeyOnItsNextUse() async throws {
        let server = try await TestServer.make()
        var create = aes256Create()
        create.templateAttribute?.attributes.append(Attribute(.activationDate, .dateTime(server.clock.now + 10)))
        let created = try await server.call(create)
        guard case .create(let payload)? = created.payload else {
            Issue.record("Create failed: \(created.resultMessage ?? "")")
            return
        }
        server.advance(seconds: 20)
        let added = try await server.call(AddAttributeRequest(uniqueIdentifier: payload.uniqueIdentifier, attribute: .custom("x-Name", .textString("vm-1"))))
        #expect(added.resultStatus == .success, "\(added.resultReason?.name ?? ""): \(added.resultMessage ?? "")")
        let state = try await server.call(GetAttributesRequest(uniqueIdentifier: payload.uniqueIdentifier, attributeNames: [.standard(.state)]))
        guard case .getAttributes(let attributes)? = state.payload else { return }
        #expect(attributes.attributes == [Attribute(.state, .enumeration(State.active.rawValue))])
    }
}


extension Array where Element == UInt8 {
    func windows(ofCount count: Int) -> [ArraySlice<UInt8>] {
        guard self.count >= count else { return [] }
        return (0...(self.count - count)).map { self[$0..<($0 + count)] }
    }
}
