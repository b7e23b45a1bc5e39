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

@Suite("vCenter")
struct VCenterFlowTests {
    @Test(.enabled(if: VCenterReplay.isAvailable, "skipped: capture absent (../shared/kmip-vectors/derived)"))
    func replayOfTheCapturedSessionGivesTheCapturedAnswers() async throws {
        let server = try await TestServer.make()
        let result = try await VCenterReplay.run { await server.send($0) }
        #expect(result.requests == 102)
        #expect(result.mismatches.isEmpty, "\(result.mismatches)")
    }

    /// The sequence of §1.3 B of KMIP-VMWARE.md, built with the model.
    @Test func encryptAVirtualMachine() async throws {
        let server = try await TestServer.make()
        let created = try await server.call(
            CreateRequest(
                objectType: .symmetricKey,
                attributes: [
                    Attribute(.cryptographicAlgorithm, .enumeration(CryptographicAlgorithm.aes.rawValue)),
                    Attribute(.cryptographicUsageMask, .integer(12)),
                    Attribute(.cryptographicLength, .integer(256)),
                ]
            )
        )
        #expect(created.resultStatus == .success)
        guard case .create(let create)? = created.payload else {
            Issue.record("no Create payload")
            return
        }
        let uid = create.uniqueIdentifier

        // An absent custom attribute: the response holds only the Unique Identifier.
        let absent = try await server.call(GetAttributesRequest(uniqueIdentifier: uid, attributeNames: [AttributeName(v1Name: "x-Vendor")]))
        guard case .getAttributes(let none)? = absent.payload else {
            Issue.record("no Get Attributes payload")
            return
        }
        #expect(none.attributes.isEmpty)
        #expect(none.uniqueIdentifier == uid)

        // vCenter's batch of three Add Attribute.
        let values = [("x-Product_Version", "7.0.3 build-19480866"), ("x-Vendor", "VMware, Inc."), ("x-Product", "VMware vSphere")]
        let batch = RequestMessage(
            version: .v1_1,
            batchItems: values.enumerated().map { i, pair in
                RequestBatchItem(
                    AddAttributeRequest(uniqueIdentifier: uid, attribute: .custom(pair.0, .textString(pair.1))),
                    uniqueBatchItemID: [0x51, 0x4C, 0x4B, 0x43, UInt8(i + 1), 0, 0, 0]
                )
            }
        )
        let added = try await server.send(batch)
        #expect(added.batchItems.count == 3)
        for (i, item) in added.batchItems.enumerated() {
            #expect(item.resultStatus == .success)
            #expect(item.operation == .addAttribute)
            #expect(item.uniqueBatchItemID == [0x51, 0x4C, 0x4B, 0x43, UInt8(i + 1), 0, 0, 0])
        }

        // Get: a Raw 32-byte AES-256 key.
        let got = try await server.call(GetRequest(uniqueIdentifier: uid))
        guard case .get(let get)? = got.payload, case .symmetricKey(let key) = get.object else {
            Issue.record("no key: \(got.resultMessage ?? "")")
            return
        }
        #expect(key.keyBlock.keyFormatType == .raw)
        #expect(key.keyBlock.keyMaterialBytes?.count == 32)
        #expect(key.keyBlock.cryptographicAlgorithm == .aes)
        #expect(key.keyBlock.cryptographicLength == 256)

        // Pre-Active, then Activate, then Active.
        #expect(try await self.state(of: uid, server) == .preActive)
        let activated = try await server.call(ActivateRequest(uniqueIdentifier: uid))
        #expect(activated.resultStatus == .success)
        #expect(try await self.state(of: uid, server) == .active)

        // The custom attribute reads back.
        let vendor = try await server.call(GetAttributesRequest(uniqueIdentifier: uid, attributeNames: [AttributeName(v1Name: "x-Vendor")]))
        guard case .getAttributes(let attributes)? = vendor.payload else {
            Issue.record("no Get Attributes payload")
            return
        }
        #expect(attributes.attributes == [Attribute.custom("x-Vendor", .textString("VMware, Inc."))])

        // The same key read twice is the same key.
        let again = try await server.call(GetRequest(uniqueIdentifier: uid))
        guard case .get(let second)? = again.payload else { return }
        #expect(second.object.keyBlock?.keyMaterialBytes == key.keyBlock.keyMaterialBytes)
    }

    func state(of uid: UniqueIdentifier, _ server: TestServer) async throws -> State? {
        let item = try await server.call(GetAttributesRequest(uniqueIdentifier: uid, attributeNames: [.standard(.state)]))
        guard case .getAttributes(let payload)? = item.payload,
            case .enumeration(let raw)? = payload.attributes.first?.value
        else { return nil }
        return State(rawValue: raw)
    }
}
