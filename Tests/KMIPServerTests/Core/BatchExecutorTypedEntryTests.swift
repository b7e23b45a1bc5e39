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

/// The typed entry, ``BatchExecutor/execute(_:client:)``, answers as the byte entry does.
@Suite("BatchExecutor: the typed entry")
struct BatchExecutorTypedEntryTests {
    /// Runs `request` through the typed entry, then through the bytes, and expects one answer.
    @discardableResult
    private func expectSameAnswer(
        _ server: TestServer,
        _ request: RequestMessage,
        as client: ClientIdentity = TestServer.tenantA,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ResponseMessage {
        let typed = await server.executor.execute(request, client: client)
        let bytes = try ResponseMessage(decoding: await server.executor.process(request.encoded(), client: client))
        #expect(typed == bytes, sourceLocation: sourceLocation)
        #expect(typed.encoded() == bytes.encoded(), sourceLocation: sourceLocation)
        return typed
    }

    @Test("reads answer the same through both entries, in 1.x and 2.x")
    func reads() async throws {
        let server = try await TestServer.make()
        for version in [ProtocolVersion.v1_1, .v1_4, .v2_1] {
            let uid = try await server.createKey(name: "disk-\(version)", version: version)
            let request = RequestMessage(
                version: version,
                batchItems: [
                    RequestBatchItem(GetRequest(uniqueIdentifier: uid), uniqueBatchItemID: [1]),
                    RequestBatchItem(
                        GetAttributesRequest(uniqueIdentifier: uid, attributeNames: [.standard(.state)]),
                        uniqueBatchItemID: [2]
                    ),
                    RequestBatchItem(GetAttributeListRequest(uniqueIdentifier: uid), uniqueBatchItemID: [3]),
                    RequestBatchItem(DiscoverVersionsRequest(), uniqueBatchItemID: [4]),
                    RequestBatchItem(QueryRequest(queryFunctions: [.queryOperations]), uniqueBatchItemID: [5]),
                ]
            )
            let response = try await self.expectSameAnswer(server, request)
            #expect(response.header.protocolVersion == version)
            #expect(response.batchItems.map(\.resultStatus) == Array(repeating: .success, count: 5))
            guard case .get(let got)? = response.batchItems[0].payload else {
                Issue.record("no Get payload: \(response.batchItems[0])")
                continue
            }
            #expect(got.uniqueIdentifier == uid)
            #expect(got.object.keyBlock?.keyMaterialBytes?.count == 32)
        }
    }

    @Test("failed items and refused messages answer the same through both entries")
    func errors() async throws {
        let server = try await TestServer.make()
        let uid = try await server.createKey()

        let missing = RequestMessage(
            version: .v1_1,
            batchItems: [RequestBatchItem(GetRequest(uniqueIdentifier: "missing"))]
        )
        let notFound = try await self.expectSameAnswer(server, missing)
        expectFailure(notFound.batchItems[0], .itemNotFound)

        // Another tenant's key is not found either.
        let foreign = RequestMessage(version: .v1_1, batchItems: [RequestBatchItem(GetRequest(uniqueIdentifier: uid))])
        expectFailure(
            try await self.expectSameAnswer(server, foreign, as: TestServer.tenantB).batchItems[0],
            .itemNotFound
        )

        let unsupported = RequestMessage(
            version: ProtocolVersion(major: 9, minor: 0),
            batchItems: [RequestBatchItem(DiscoverVersionsRequest())]
        )
        let refused = try await self.expectSameAnswer(server, unsupported)
        #expect(refused.batchItems.count == 1)
        #expect(refused.batchItems[0].operation == nil)
        expectFailure(refused.batchItems[0], .unsupportedProtocolVersion)

        var undo = RequestMessage(
            version: .v1_4,
            batchItems: [RequestBatchItem(DiscoverVersionsRequest(), uniqueBatchItemID: [7])]
        )
        undo.header.batchErrorContinuationOption = .undo
        let undone = try await self.expectSameAnswer(server, undo)
        #expect(undone.batchItems[0].uniqueBatchItemID == [7])
        expectFailure(undone.batchItems[0], .featureNotSupported)

        var miscounted = RequestMessage(version: .v1_1, batchItems: [RequestBatchItem(DiscoverVersionsRequest())])
        miscounted.header.batchCount = 2
        expectFailure(try await self.expectSameAnswer(server, miscounted).batchItems[0], .invalidMessage)

        var small = RequestMessage(version: .v1_1, batchItems: [RequestBatchItem(GetRequest(uniqueIdentifier: uid))])
        small.header.maximumResponseSize = 64
        let tooLarge = try await self.expectSameAnswer(server, small)
        expectFailure(tooLarge.batchItems[0], .responseTooLarge)
        #expect(tooLarge.batchItems[0].operation == .get)
    }

    @Test("a typed batch carries the ID Placeholder, changes state and is audited")
    func writes() async throws {
        let server = try await TestServer.make()
        var request = RequestMessage(
            version: .v1_1,
            batchItems: [
                RequestBatchItem(aes256Create(name: "typed"), uniqueBatchItemID: [1]),
                RequestBatchItem(ActivateRequest(uniqueIdentifier: nil), uniqueBatchItemID: [2]),
                RequestBatchItem(GetRequest(uniqueIdentifier: "missing"), uniqueBatchItemID: [3]),
                RequestBatchItem(GetRequest(uniqueIdentifier: nil), uniqueBatchItemID: [4]),
            ]
        )
        request.header.batchErrorContinuationOption = .continue
        let response = await server.executor.execute(request, client: TestServer.tenantA)
        #expect(response.batchItems.map(\.resultStatus) == [.success, .success, .operationFailed, .success])
        expectFailure(response.batchItems[2], .itemNotFound)
        guard case .create(let created)? = response.batchItems[0].payload,
            case .get(let got)? = response.batchItems[3].payload
        else {
            Issue.record("payloads missing: \(response.batchItems)")
            return
        }
        #expect(got.uniqueIdentifier == created.uniqueIdentifier)

        // The byte entry sees what the typed one did.
        let state = try await server.call(
            GetAttributesRequest(uniqueIdentifier: created.uniqueIdentifier, attributeNames: [.standard(.state)])
        )
        guard case .getAttributes(let attributes)? = state.payload else {
            Issue.record("no Get Attributes payload: \(state)")
            return
        }
        #expect(attributes.attributes.first?.value == .enumeration(State.active.rawValue))

        let audit = try String(contentsOfFile: server.auditPath, encoding: .utf8)
        #expect(audit.contains("\"operation\":\"Activate\""))
        #expect(audit.contains("\"uid\":\"\(created.uniqueIdentifier)\""))
    }
}
