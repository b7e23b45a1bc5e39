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
import Testing

/// Add and Set Attribute share one request type, ``AttributeRequest``: the tag of the attribute
/// on the wire is the only difference, and each keeps its own.
@Suite("Attribute edit requests")
struct AttributeEditsTests {
    static let uid: UniqueIdentifier = "5d3f1c8e-7f1a-4f8e-9c61-2b1e0f4a7d90"
    static let custom = Attribute.custom("x-vmware-disk", .textString("scsi0:0"))

    /// The tags of the Request Payload's children, as `payload` encodes in `version`.
    static func childTags(_ payload: RequestPayload, _ version: ProtocolVersion) throws -> [TTLVTag] {
        var encoder = KMIPEncoder(version: version)
        payload.encode(to: &encoder)
        let item = try TTLVItem(parsing: encoder.bytes)
        #expect(item.tag == .requestPayload)
        return item.children.map(\.tag)
    }

    /// A request message whose only batch item is `operation` with `payload` kept whole.
    static func message(_ operation: KMIPModel.Operation, _ payload: TTLVItem, _ version: ProtocolVersion) -> [UInt8] {
        RequestMessage(version: version, batchItems: [RequestBatchItem(operation: operation, payload: .other(payload))])
            .encoded()
    }

    @Test("Add Attribute writes an Attribute in 1.x and a New Attribute in 2.x")
    func addAttributeTags() throws {
        let request = AddAttributeRequest(uniqueIdentifier: Self.uid, attribute: Self.custom)
        #expect(try Self.childTags(request.requestPayload, .v1_4) == [.uniqueIdentifier, .attribute])
        #expect(try Self.childTags(request.requestPayload, .v2_1) == [.uniqueIdentifier, .newAttribute])
    }

    @Test("Set Attribute writes a New Attribute in every version")
    func setAttributeTags() throws {
        let request = SetAttributeRequest(uniqueIdentifier: Self.uid, attribute: Self.custom)
        #expect(try Self.childTags(request.requestPayload, .v1_4) == [.uniqueIdentifier, .newAttribute])
        #expect(try Self.childTags(request.requestPayload, .v2_1) == [.uniqueIdentifier, .newAttribute])
    }

    @Test("the shared request keeps each operation and decodes to its own case")
    func operations() throws {
        #expect(AddAttributeRequest.operation == .addAttribute)
        #expect(SetAttributeRequest.operation == .setAttribute)
        let add = AddAttributeRequest(uniqueIdentifier: Self.uid, attribute: Self.custom)
        let set = SetAttributeRequest(uniqueIdentifier: Self.uid, attribute: Self.custom)
        #expect(RequestBatchItem(add).operation == .addAttribute)
        #expect(RequestBatchItem(set).operation == .setAttribute)
        let message = RequestMessage(version: .v1_4, batchItems: [RequestBatchItem(add), RequestBatchItem(set)])
        let decoded = try RequestMessage(decoding: message.encoded())
        guard case .addAttribute(let readAdd) = decoded.batchItems[0].payload,
            case .setAttribute(let readSet) = decoded.batchItems[1].payload
        else {
            Issue.record("the items decode to \(decoded.batchItems.map(\.payload.operation))")
            return
        }
        #expect(readAdd == add)
        #expect(readSet == set)
    }

    @Test("a request without its attribute names the tag each operation expects")
    func missingAttribute() throws {
        let payload = TTLVItem(.requestPayload, .structure([TTLVItem(.uniqueIdentifier, .textString("k"))]))
        for (operation, tag) in [(KMIPModel.Operation.addAttribute, TTLVTag.attribute), (.setAttribute, .newAttribute)]
        {
            let bytes = Self.message(operation, payload, .v1_4)
            let error = #expect(throws: TTLVError.self) { try RequestMessage(decoding: bytes) }
            #expect(error?.code == .missingField, "\(operation.name)")
            #expect(error?.tag == tag, "\(operation.name)")
        }
    }
}
