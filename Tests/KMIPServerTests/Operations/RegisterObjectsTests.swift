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
import Testing

@Suite("Register of keys and certificates kept as stored objects")
struct RegisterObjectsTests {
    static func publicKey(keyValue: TTLVValue) -> TTLVItem {
        TTLVItem(
            .publicKey,
            .structure([
                TTLVItem(
                    .keyBlock,
                    .structure([
                        TTLVItem(.keyFormatType, .enumeration(KeyFormatType.pkcs1.rawValue)),
                        TTLVItem(.keyValue, keyValue),
                        TTLVItem(.cryptographicAlgorithm, .enumeration(CryptographicAlgorithm.rsa.rawValue)),
                        TTLVItem(.cryptographicLength, .integer(2048)),
                    ])
                )
            ])
        )
    }

    func register(
        _ server: TestServer,
        _ type: ObjectType,
        _ object: TTLVItem,
        attributes: [Attribute] = []
    ) async throws -> ResponseBatchItem {
        try await server.call(
            RegisterRequest(objectType: type, attributes: attributes, object: .other(object)),
            version: .v2_1
        )
    }

    /// A Public Key comes back exactly as registered, in its own format only; its algorithm and
    /// length become attributes.
    @Test func publicKeyComesBackAsRegistered() async throws {
        let server = try await TestServer.make()
        let key = Self.publicKey(
            keyValue: .structure([TTLVItem(.keyMaterial, .byteString([0x30, 0x82, 0x01, 0x0A, 0x02]))])
        )
        let registered = try await self.register(server, .publicKey, key)
        guard case .register(let response)? = registered.payload else {
            Issue.record("Register failed: \(registered.resultReason?.name ?? "?") \(registered.resultMessage ?? "")")
            return
        }
        let uid = response.uniqueIdentifier
        let got = try await server.call(GetRequest(uniqueIdentifier: uid), version: .v2_1)
        guard case .get(let get)? = got.payload else {
            Issue.record("Get failed: \(got.resultReason?.name ?? "?")")
            return
        }
        #expect(get.objectType == .publicKey)
        #expect(get.object == .other(key))
        let same = try await server.call(GetRequest(uniqueIdentifier: uid, keyFormatType: .pkcs1), version: .v2_1)
        #expect(same.resultStatus == .success)
        expectFailure(
            try await server.call(GetRequest(uniqueIdentifier: uid, keyFormatType: .pkcs8), version: .v2_1),
            .keyFormatTypeNotSupported
        )
        let attributes = try await server.call(
            GetAttributesRequest(
                uniqueIdentifier: uid,
                attributeNames: [.standard(.cryptographicAlgorithm), .standard(.cryptographicLength)]
            ),
            version: .v2_1
        )
        guard case .getAttributes(let read)? = attributes.payload else { return }
        #expect(
            read.attributes == [
                Attribute(.cryptographicAlgorithm, .enumeration(CryptographicAlgorithm.rsa.rawValue)),
                Attribute(.cryptographicLength, .integer(2048)),
            ]
        )
    }

    @Test func wrappedKeyMaterialIsRefused() async throws {
        let server = try await TestServer.make()
        let key = Self.publicKey(keyValue: .byteString([1, 2, 3, 4]))
        expectFailure(try await self.register(server, .publicKey, key), .featureNotSupported)
    }

    @Test func objectMustMatchItsType() async throws {
        let server = try await TestServer.make()
        let key = Self.publicKey(keyValue: .structure([TTLVItem(.keyMaterial, .byteString([1]))]))
        expectFailure(try await self.register(server, .privateKey, key), .invalidField)
    }

    /// A Certificate Type attribute that contradicts the certificate is refused.
    @Test func certificateTypeAttributeMustMatch() async throws {
        let server = try await TestServer.make()
        let certificate = TTLVItem(
            .certificate,
            .structure([
                TTLVItem(.certificateType, .enumeration(CertificateType.x509.rawValue)),
                TTLVItem(.certificateValue, .byteString([0x30, 0x00])),
            ])
        )
        let wrongType = Attribute(.certificateType, .enumeration(CertificateType.x509.rawValue + 1))
        expectFailure(
            try await self.register(server, .certificate, certificate, attributes: [wrongType]),
            .invalidField
        )
        let registered = try await self.register(server, .certificate, certificate)
        guard case .register(let response)? = registered.payload else {
            Issue.record("Register failed: \(registered.resultReason?.name ?? "?") \(registered.resultMessage ?? "")")
            return
        }
        let length = try await server.call(
            GetAttributesRequest(
                uniqueIdentifier: response.uniqueIdentifier,
                attributeNames: [.standard(.certificateLength)]
            ),
            version: .v2_1
        )
        guard case .getAttributes(let read)? = length.payload else { return }
        #expect(read.attributes == [Attribute(.certificateLength, .integer(2))])
    }
}
