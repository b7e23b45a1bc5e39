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
import KMIPServer
import KeystormTestSupport
import Testing

@Suite("Batches and errors")
struct BatchTests {
    @Test func idPlaceholderCarriesTheCreatedKeyToTheNextItems() async throws {
        let server = try await TestServer.make()
        let request = RequestMessage(
            version: .v1_1,
            batchItems: [
                RequestBatchItem(aes256Create(), uniqueBatchItemID: [1]),
                RequestBatchItem(ActivateRequest(uniqueIdentifier: nil), uniqueBatchItemID: [2]),
                RequestBatchItem(GetRequest(uniqueIdentifier: nil), uniqueBatchItemID: [3]),
            ]
        )
        let response = try await server.send(request)
        #expect(response.batchItems.map(\.resultStatus) == [.success, .success, .success])
        #expect(response.batchItems.map(\.uniqueBatchItemID) == [[1], [2], [3]])
        guard case .create(let created)? = response.batchItems[0].payload, case .get(let got)? = response.batchItems[2].payload else {
            Issue.record("payloads missing")
            return
        }
        #expect(got.uniqueIdentifier == created.uniqueIdentifier)
    }

    @Test func stopIsTheDefaultAndContinueGoesOn() async throws {
        let server = try await TestServer.make()
        let items = [
            RequestBatchItem(GetRequest(uniqueIdentifier: "missing"), uniqueBatchItemID: [1]),
            RequestBatchItem(DiscoverVersionsRequest(), uniqueBatchItemID: [2]),
        ]
        let stopped = try await server.send(RequestMessage(version: .v1_1, batchItems: items))
        #expect(stopped.batchItems.count == 1)
        #expect(stopped.header.batchCount == 1)
        var request = RequestMessage(version: .v1_1, batchItems: items)
        request.header.batchErrorContinuationOption = .continue
        let continued = try await server.send(request)
        #expect(continued.batchItems.map(\.resultStatus) == [.operationFailed, .success])
    }

    @Test func undoIsRefusedAsAFeatureNotSupported() async throws {
        let server = try await TestServer.make()
        var request = RequestMessage(version: .v1_4, batchItems: [RequestBatchItem(DiscoverVersionsRequest(), uniqueBatchItemID: [1])])
        request.header.batchErrorContinuationOption = .undo
        let response = try await server.send(request)
        #expect(response.batchItems.count == 1)
        expectFailure(response.batchItems[0], .featureNotSupported)
    }

    @Test func maximumResponseSizeGivesResponseTooLarge() async throws {
        let server = try await TestServer.make()
        var request = RequestMessage(version: .v1_1, batchItems: [RequestBatchItem(QueryRequest(queryFunctions: [.queryOperations, .queryObjects]))])
        request.header.maximumResponseSize = 64
        let response = try await server.send(request)
        expectFailure(response.batchItems[0], .responseTooLarge)
        #expect(response.batchItems[0].operation == .query)
    }

    @Test func unsupportedOperationEchoesTheOperation() async throws {
        let server = try await TestServer.make()
        var encoder = KMIPEncoder(version: .v1_1)
        encoder.writeStructure(.requestPayload) { _ in }
        let payload = try TTLVItem(parsing: encoder.bytes)
        let request = RequestMessage(version: .v1_1, batchItems: [RequestBatchItem(operation: .createKeyPair, payload: .other(payload))])
        let response = try await server.send(request)
        expectFailure(response.batchItems[0], .operationNotSupported)
        #expect(response.batchItems[0].operation == .createKeyPair)
    }

    @Test func garbageGetsInvalidMessageWithoutOperation() async throws {
        let server = try await TestServer.make()
        let bytes: [UInt8] = [0x42, 0x00, 0x78, 0x01, 0x00, 0x00, 0x00, 0x10] + Array(repeating: 0xFF, count: 16)
        let response = try ResponseMessage(decoding: await server.send(bytes))
        #expect(response.batchItems.count == 1)
        #expect(response.batchItems[0].operation == nil)
        expectFailure(response.batchItems[0], .invalidMessage)
    }

    @Test func wrongMajorVersionGetsInvalidMessage() async throws {
        let server = try await TestServer.make()
        let request = RequestMessage(version: ProtocolVersion(major: 9, minor: 0), batchItems: [RequestBatchItem(DiscoverVersionsRequest())])
        let response = try ResponseMessage(decoding: await server.send(request.encoded()))
        #expect(response.batchItems[0].operation == nil)
        #expect(response.batchItems[0].resultStatus == .operationFailed)
    }

    @Test func answersInTheRequestsVersion() async throws {
        let server = try await TestServer.make()
        for version in [ProtocolVersion.v1_0, .v1_1, .v1_2, .v1_3, .v1_4, .v2_0, .v2_1] {
            let response = try await server.send(RequestMessage(version: version, batchItems: [RequestBatchItem(DiscoverVersionsRequest())]))
            #expect(response.header.protocolVersion == version)
        }
    }

    @Test func discoverVersionsIntersectsWithTheClientsList() async throws {
        let server = try await TestServer.make()
        let all = try await server.call(DiscoverVersionsRequest())
        guard case .discoverVersions(let every)? = all.payload else { return }
        #expect(every.protocolVersions.first == .v2_1)
        #expect(every.protocolVersions.contains(.v1_1))
        let some = try await server.call(DiscoverVersionsRequest(protocolVersions: [ProtocolVersion(major: 3, minor: 0), .v1_1]))
        guard case .discoverVersions(let common)? = some.payload else { return }
        #expect(common.protocolVersions == [.v1_1])
    }

    @Test func auditLogHasOneLinePerOperationAndNoKeyMaterial() async throws {
        let server = try await TestServer.make()
        let uid = try await server.createKey()
        let got = try await server.call(GetRequest(uniqueIdentifier: uid))
        guard case .get(let get)? = got.payload, let key = get.object.keyBlock?.keyMaterialBytes else { return }
        let log = try String(contentsOfFile: server.auditPath, encoding: .utf8)
        let lines = log.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].contains("\"operation\":\"Create\"") && lines[0].contains("\"result\":\"success\""))
        #expect(lines[1].contains("\"uid\":\"\(uid.text ?? "")\""))
        let hex = key.map { String($0, radix: 16) }.joined()
        #expect(!log.contains(hex))
    }

    @Test func aMalformedItemFailsAloneAndEchoesItsOperation() async throws {
        let server = try await TestServer.make()
        // Get Attributes whose Attribute Name is an Integer instead of a Text String.
        let broken = TTLVItem(.batchItem, .structure([
            TTLVItem(.operation, .enumeration(KMIPModel.Operation.getAttributes.rawValue)),
            TTLVItem(.uniqueBatchItemID, .byteString([1])),
            TTLVItem(.requestPayload, .structure([
                TTLVItem(.uniqueIdentifier, .textString("x")),
                TTLVItem(.attributeName, .integer(5)),
            ])),
        ]))
        var encoder = KMIPEncoder(version: .v1_1)
        encoder.writeStructure(.requestMessage) { e in
            var header = RequestHeader(protocolVersion: .v1_1, batchCount: 2)
            header.batchErrorContinuationOption = .continue
            e.write(header)
            e.write(broken)
            e.write(.batchItem, RequestBatchItem(DiscoverVersionsRequest(), uniqueBatchItemID: [2]))
        }
        let response = try ResponseMessage(decoding: await server.send(encoder.bytes))
        #expect(response.batchItems.count == 2)
        expectFailure(response.batchItems[0], .invalidField)
        #expect(response.batchItems[0].operation == .getAttributes)
        #expect(response.batchItems[0].uniqueBatchItemID == [1])
        #expect(response.batchItems[1].resultStatus == .success)
    }
}
