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
import KMIPCodec
import KMIPModel
import KeystormSpawn
import KeystormTestSupport
import Testing

/// The generated payload table (Generated/PayloadTable.swift): every operation it models encodes
/// and decodes both ways, in 1.x and 2.x, and the committed file is what the generator writes.
@Suite("Payload table")
struct PayloadTableTests {
    static let versions: [ProtocolVersion] = [.v1_0, .v1_4, .v2_1]
    static let uid: UniqueIdentifier = "5d3f1c8e-7f1a-4f8e-9c61-2b1e0f4a7d90"
    static let custom = Attribute.custom("x-vmware-disk", .textString("scsi0:0"))

    /// A request and a response payload of `operation` with every field Keystorm's peers use,
    /// as they read back in `version`.
    static func sample(
        _ operation: KMIPModel.Operation,
        _ version: ProtocolVersion
    ) -> (RequestPayload, ResponsePayload)? {
        let v1 = version.major == 1
        switch operation {
        case .discoverVersions:
            return (
                DiscoverVersionsRequest(protocolVersions: [.v2_1, .v1_4]).requestPayload,
                DiscoverVersionsResponse(protocolVersions: [.v1_4]).responsePayload
            )
        case .query:
            return (
                QueryRequest(queryFunctions: [.queryOperations, .queryObjects]).requestPayload,
                QueryResponse(
                    operations: [.create, .get],
                    objectTypes: [.symmetricKey],
                    vendorIdentification: "Keystorm"
                )
                .responsePayload
            )
        case .create:
            let attributes = [Attribute(.cryptographicAlgorithm, .enumeration(CryptographicAlgorithm.aes.rawValue))]
            return (
                CreateRequest(objectType: .symmetricKey, attributes: attributes).requestPayload,
                CreateResponse(objectType: .symmetricKey, uniqueIdentifier: Self.uid).responsePayload
            )
        case .register:
            return (
                RegisterRequest(objectType: .symmetricKey, attributes: [Self.custom], object: Self.key).requestPayload,
                RegisterResponse(uniqueIdentifier: Self.uid).responsePayload
            )
        case .get:
            return (
                GetRequest(uniqueIdentifier: Self.uid, keyFormatType: .raw).requestPayload,
                GetResponse(objectType: .symmetricKey, uniqueIdentifier: Self.uid, object: Self.key).responsePayload
            )
        case .getAttributes:
            return (
                GetAttributesRequest(uniqueIdentifier: Self.uid, attributeNames: [.standard(.state)]).requestPayload,
                GetAttributesResponse(uniqueIdentifier: Self.uid, attributes: [Self.custom]).responsePayload
            )
        case .getAttributeList:
            return (
                GetAttributeListRequest(uniqueIdentifier: Self.uid).requestPayload,
                GetAttributeListResponse(uniqueIdentifier: Self.uid, attributeNames: [.standard(.state)])
                    .responsePayload
            )
        case .addAttribute:
            return (
                AddAttributeRequest(uniqueIdentifier: Self.uid, attribute: Self.custom).requestPayload,
                AddAttributeResponse(uniqueIdentifier: Self.uid, attribute: v1 ? Self.indexed : nil).responsePayload
            )
        case .modifyAttribute:
            return (
                ModifyAttributeRequest(uniqueIdentifier: Self.uid, attribute: Self.custom).requestPayload,
                ModifyAttributeResponse(uniqueIdentifier: Self.uid, attribute: v1 ? Self.indexed : nil).responsePayload
            )
        case .deleteAttribute:
            return (
                DeleteAttributeRequest(uniqueIdentifier: Self.uid, attributeName: Self.custom.name).requestPayload,
                DeleteAttributeResponse(uniqueIdentifier: Self.uid, attribute: v1 ? Self.indexed : nil).responsePayload
            )
        case .setAttribute:
            return (
                SetAttributeRequest(uniqueIdentifier: Self.uid, attribute: Self.custom).requestPayload,
                SetAttributeResponse(uniqueIdentifier: Self.uid).responsePayload
            )
        case .locate:
            return (
                LocateRequest(maximumItems: 2, attributes: [Self.custom]).requestPayload,
                LocateResponse(uniqueIdentifiers: [Self.uid, "second"]).responsePayload
            )
        case .activate:
            return (
                ActivateRequest(uniqueIdentifier: Self.uid).requestPayload,
                ActivateResponse(uniqueIdentifier: Self.uid).responsePayload
            )
        case .revoke:
            let reason = RevocationReason(code: .cessationOfOperation, message: "retired")
            return (
                RevokeRequest(uniqueIdentifier: Self.uid, revocationReason: reason).requestPayload,
                RevokeResponse(uniqueIdentifier: Self.uid).responsePayload
            )
        case .destroy:
            return (
                DestroyRequest(uniqueIdentifier: nil).requestPayload,
                DestroyResponse(uniqueIdentifier: Self.uid).responsePayload
            )
        case .reKey:
            return (
                ReKeyRequest(uniqueIdentifier: Self.uid, offset: 60).requestPayload,
                ReKeyResponse(uniqueIdentifier: "rekeyed").responsePayload
            )
        case .check:
            return (
                CheckRequest(uniqueIdentifier: Self.uid, usageLimitsCount: 5).requestPayload,
                CheckResponse(uniqueIdentifier: Self.uid, usageLimitsCount: 5).responsePayload
            )
        default:
            return nil
        }
    }

    static let key = ManagedObject.symmetricKey(
        SymmetricKey(
            keyBlock: KeyBlock(
                keyFormatType: .raw,
                keyValue: .plain(PlainKeyValue(keyMaterial: .bytes(Array(repeating: 0x5A, count: 32)))),
                cryptographicAlgorithm: .aes,
                cryptographicLength: 256
            )
        )
    )

    /// A 1.x response's attribute, with its index.
    static let indexed = Attribute(Self.custom.name, index: 0, Self.custom.value)

    @Test("the table lists each operation once, and the test has a sample of each")
    func coverage() {
        let operations = RequestPayload.modelledOperations
        #expect(operations.count == 17)
        #expect(Set(operations.map(\.rawValue)).count == operations.count, "no operation twice")
        for operation in operations {
            for version in Self.versions {
                #expect(Self.sample(operation, version) != nil, "no sample for \(operation.name)")
            }
        }
    }

    @Test(
        "each operation's request encodes and decodes to the same typed payload",
        arguments: RequestPayload.modelledOperations
    )
    func requestRoundTrip(operation: KMIPModel.Operation) throws {
        for version in Self.versions {
            let (payload, _) = try #require(Self.sample(operation, version))
            #expect(payload.operation == operation)
            let message = RequestMessage(
                version: version,
                batchItems: [RequestBatchItem(operation: operation, payload: payload)]
            )
            let bytes = message.encoded()
            let decoded = try RequestMessage(decoding: bytes)
            if case .locate(let sent) = payload, case .locate(let read) = decoded.batchItems[0].payload {
                // A 1.x Locate has no Attributes structure, which the model remembers: compare the fields.
                #expect(read.maximumItems == sent.maximumItems && read.attributes == sent.attributes, "in \(version)")
            } else {
                #expect(decoded.batchItems[0].payload == payload, "\(operation.name) in \(version)")
            }
            #expect(decoded.batchItems[0].payload.operation == operation)
            #expect(decoded.encoded() == bytes, "\(operation.name) in \(version) re-encodes unchanged")
        }
    }

    @Test(
        "each operation's response encodes and decodes to the same typed payload",
        arguments: RequestPayload.modelledOperations
    )
    func responseRoundTrip(operation: KMIPModel.Operation) throws {
        for version in Self.versions {
            let (_, payload) = try #require(Self.sample(operation, version))
            #expect(payload.operation == operation)
            let item = ResponseBatchItem(operation: operation, resultStatus: .success, payload: payload)
            let message = ResponseMessage(
                header: ResponseHeader(protocolVersion: version, timeStamp: 1_767_225_600, batchCount: 1),
                batchItems: [item]
            )
            let bytes = message.encoded()
            let decoded = try ResponseMessage(decoding: bytes)
            #expect(decoded.batchItems[0].payload == payload, "\(operation.name) in \(version)")
            #expect(decoded.batchItems[0].payload?.operation == operation)
            #expect(decoded.encoded() == bytes, "\(operation.name) in \(version) re-encodes unchanged")
        }
    }

    @Test("one payload enumeration serves both sides, each written under its own tag")
    func sides() throws {
        #expect(RequestSide.payloadTag == .requestPayload)
        #expect(ResponseSide.payloadTag == .responsePayload)
        #expect(RequestPayload.modelledOperations == ResponsePayload.modelledOperations)
        var request = KMIPEncoder(version: .v1_4)
        RequestPayload.get(GetRequest(uniqueIdentifier: Self.uid, keyFormatType: .raw)).encode(to: &request)
        var response = KMIPEncoder(version: .v1_4)
        ResponsePayload.destroy(DestroyResponse(uniqueIdentifier: Self.uid)).encode(to: &response)
        #expect(try TTLVItem(parsing: request.bytes).tag == .requestPayload)
        #expect(try TTLVItem(parsing: response.bytes).tag == .responsePayload)
        let item = TTLVItem(.responsePayload, .structure([TTLVItem(.uniqueIdentifier, .textString("k"))]))
        var other = KMIPEncoder(version: .v1_4)
        ResponsePayload.other(item).encode(to: &other)
        #expect(try TTLVItem(parsing: other.bytes) == item, "a payload kept whole re-encodes as received")
    }

    @Test("operations that share a payload type keep their own operation and encode alike")
    func sharedPayloadTypes() throws {
        #expect(ActivateRequest.operation == .activate)
        #expect(DestroyRequest.operation == .destroy)
        #expect(GetAttributeListRequest.operation == .getAttributeList)
        #expect(RevokeResponse.operation == .revoke)
        #expect(SetAttributeResponse.operation == .setAttribute)
        #expect(AddAttributeResponse.operation == .addAttribute)
        #expect(ModifyAttributeResponse.operation == .modifyAttribute)
        #expect(DeleteAttributeResponse.operation == .deleteAttribute)
        #expect(RequestBatchItem(DestroyRequest(uniqueIdentifier: Self.uid)).operation == .destroy)
        #expect(ResponseBatchItem(success: RevokeResponse(uniqueIdentifier: Self.uid)).operation == .revoke)

        // One wire form: the Activate and Destroy payloads are the same bytes.
        var activate = KMIPEncoder(version: .v1_4)
        ActivateRequest(uniqueIdentifier: Self.uid).requestPayload.encode(to: &activate)
        var destroy = KMIPEncoder(version: .v1_4)
        DestroyRequest(uniqueIdentifier: Self.uid).requestPayload.encode(to: &destroy)
        #expect(activate.bytes == destroy.bytes)
        let item = try TTLVItem(parsing: activate.bytes)
        #expect(
            item == TTLVItem(.requestPayload, .structure([TTLVItem(.uniqueIdentifier, .textString(Self.uid.text!))]))
        )
    }

    @Test("an operation without a model keeps its payload whole")
    func unmodelled() throws {
        let payload = TTLVItem(.requestPayload, .structure([TTLVItem(.uniqueIdentifier, .textString("k"))]))
        let message = RequestMessage(
            version: .v1_4,
            batchItems: [RequestBatchItem(operation: .encrypt, payload: .other(payload))]
        )
        let decoded = try RequestMessage(decoding: message.encoded())
        #expect(decoded.batchItems[0].payload == .other(payload))
        #expect(decoded.batchItems[0].payload.operation == nil)
    }

    @Test(
        "Generated/PayloadTable.swift is what Tests/Scripts/generate-payloads.py writes",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"))
    )
    func generatedFileIsCurrent() async throws {
        let result = try await ChildProcess.run(
            "/usr/bin/python3",
            [Fixtures.packageRoot + "/Tests/Scripts/generate-payloads.py", "--check"]
        )
        #expect(result.succeeded, "re-run Tests/Scripts/generate-payloads.py: \(result.output)")
    }
}
