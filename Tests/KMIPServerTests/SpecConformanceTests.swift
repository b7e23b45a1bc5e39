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
import KeystormTestSupport
import RootKeys
import Testing

/// Spec rules the OASIS test cases exposed, checked directly (OASISConformanceTests runs the
/// cases themselves).
@Suite("Spec conformance")
struct SpecConformanceTests {
    static func name(_ value: String) -> Attribute {
        Attribute(.name, .structure([
            TTLVItem(.nameValue, .textString(value)),
            TTLVItem(.nameType, .enumeration(NameType.uninterpretedTextString.rawValue)),
        ]))
    }

    @Test func aNameAnotherObjectHasIsRefusedIn2xOnly() async throws {
        let server = try await TestServer.make()
        _ = try await server.createKey(name: "taken", version: .v2_1)
        let other = try await server.createKey(version: .v2_1)
        let refused = try await server.call(AddAttributeRequest(uniqueIdentifier: other, attribute: Self.name("taken")), version: .v2_1)
        expectFailure(refused, .nonUniqueNameAttribute)
        let fresh = try await server.call(AddAttributeRequest(uniqueIdentifier: other, attribute: Self.name("free")), version: .v2_1)
        #expect(fresh.resultStatus == .success)
        let allowed = try await server.call(AddAttributeRequest(uniqueIdentifier: other, attribute: Self.name("taken")), version: .v1_4)
        #expect(allowed.resultStatus == .success)
    }

    @Test func theDigestOfARegisteredKeyIsTheSHA256OfItsMaterial() async throws {
        let server = try await TestServer.make()
        let material: [UInt8] = Array(0..<32)
        let registered = try await server.call(
            RegisterRequest(
                objectType: .symmetricKey,
                attributes: [Attribute(.cryptographicUsageMask, .integer(12))],
                object: .symmetricKey(
                    SymmetricKey(
                        keyBlock: KeyBlock(
                            keyFormatType: .raw,
                            keyValue: .plain(PlainKeyValue(keyMaterial: .bytes(material))),
                            cryptographicAlgorithm: .aes,
                            cryptographicLength: 256
                        )
                    )
                )
            )
        )
        guard case .register(let payload)? = registered.payload else {
            Issue.record("Register failed: \(registered.resultMessage ?? "")")
            return
        }
        let item = try await server.call(GetAttributesRequest(uniqueIdentifier: payload.uniqueIdentifier, attributeNames: [.standard(.digest)]))
        guard case .getAttributes(let attributes)? = item.payload else {
            Issue.record("no attributes")
            return
        }
        let expected = try Digest.sha256(of: material)
        #expect(
            attributes.attributes.first?.value
                == .structure([
                    TTLVItem(.hashingAlgorithm, .enumeration(HashingAlgorithm.sha256.rawValue)),
                    TTLVItem(.digestValue, .byteString(expected)),
                    TTLVItem(.keyFormatType, .enumeration(KeyFormatType.raw.rawValue)),
                ])
        )
    }

    @Test func aKeyIsDeactivatedOnceItsDeactivationDatePasses() async throws {
        let server = try await TestServer.make()
        let uid = try await server.createKey()
        let now = server.clock.now
        for (tag, date) in [(TTLVTag.activationDate, now), (.deactivationDate, now + 60)] {
            let added = try await server.call(AddAttributeRequest(uniqueIdentifier: uid, attribute: Attribute(tag, .dateTime(date))))
            #expect(added.resultStatus == .success, "\(added.resultMessage ?? "")")
        }
        #expect(try await self.state(of: uid, server) == .active)
        server.advance(seconds: 61)
        #expect(try await self.state(of: uid, server) == .deactivated)
    }

    func state(of uid: UniqueIdentifier, _ server: TestServer) async throws -> State? {
        let item = try await server.call(GetAttributesRequest(uniqueIdentifier: uid, attributeNames: [.standard(.state)]))
        guard case .getAttributes(let payload)? = item.payload, case .enumeration(let raw)? = payload.attributes.first?.value else { return nil }
        return State(rawValue: raw)
    }
}
