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

@Suite("Get")
struct GetTests {
    /// vSAN: every host of a cluster asks for a key vCenter has just created, all at once. Clearing
    /// Fresh must not turn the losers of that race into failed Gets.
    @Test func concurrentFirstGetsOfAFreshKeyAllSucceed() async throws {
        let server = try await TestServer.make()
        let uid = try await server.createKey()
        let results = try await withThrowingTaskGroup(of: ResponseBatchItem.self) { group in
            for _ in 0..<20 {
                group.addTask { try await server.call(GetRequest(uniqueIdentifier: uid)) }
            }
            return try await group.reduce(into: [ResponseBatchItem]()) { $0.append($1) }
        }
        #expect(results.count == 20)
        for item in results {
            #expect(item.resultStatus == .success, "\(item.resultReason?.name ?? ""): \(item.resultMessage ?? "")")
        }
        let keys = Set(results.compactMap { item -> [UInt8]? in
            guard case .get(let get)? = item.payload else { return nil }
            return get.object.keyBlock?.keyMaterialBytes
        })
        #expect(keys.count == 1)
        let fresh = try await server.call(GetAttributesRequest(uniqueIdentifier: uid, attributeNames: [.standard(.fresh)]))
        guard case .getAttributes(let attributes)? = fresh.payload else { return }
        #expect(attributes.attributes == [Attribute(.fresh, .boolean(false))])
    }

    @Test func transparentSymmetricKeyFormatCarriesTheSameKey() async throws {
        let server = try await TestServer.make()
        let uid = try await server.createKey()
        let raw = try await server.call(GetRequest(uniqueIdentifier: uid, keyFormatType: .raw))
        let transparent = try await server.call(GetRequest(uniqueIdentifier: uid, keyFormatType: .transparentSymmetricKey))
        guard case .get(let r)? = raw.payload, case .get(let t)? = transparent.payload else {
            Issue.record("Get failed")
            return
        }
        #expect(t.object.keyBlock?.keyFormatType == .transparentSymmetricKey)
        #expect(t.object.keyBlock?.keyMaterialBytes == r.object.keyBlock?.keyMaterialBytes)
        let other = try await server.call(GetRequest(uniqueIdentifier: uid, keyFormatType: .pkcs8))
        expectFailure(other, .keyFormatTypeNotSupported)
    }
}
