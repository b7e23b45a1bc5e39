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
import KeyStore
import KeystormTestSupport
import Testing

/// Locate on a tenant with thousands of keys: capped, paged newest first, and answered from
/// bounded reads of the store, never from the whole tenant at once.
@Suite("Locate paging")
struct LocatePagingTests {
    static let keyCount = 5_000
    static let cap = 1_000
    static let chunk = 128

    /// A server with `keyCount` more keys in tenant A, each created a second after the one
    /// before; the three oldest also carry `x-Marker`. Returns the server, the store the server
    /// talks to (recording every listing) and every key, newest first.
    static func populated() async throws -> (TestServer, RecordingKeyStore, BatchExecutor, [String]) {
        let server = try await TestServer.make()
        let first = try await server.createKey()
        guard case .text(let firstUID) = first,
            let stored = try await server.store.object(
                tenantID: TestServer.tenantA.tenantID,
                uniqueIdentifier: firstUID
            )
        else {
            throw TestServerError(reason: "the first key is missing")
        }
        let template = try ObjectRecord(stored: stored)
        let uids = (0..<Self.keyCount).map { "clone-\($0)" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for batch in stride(from: 0, to: Self.keyCount, by: 100) {
                group.addTask {
                    for index in batch..<batch + 100 {
                        var record = template
                        record.stored.uniqueIdentifier = uids[index]
                        record.stored.createdAt = stored.createdAt + 1 + Int64(index)
                        record.set(.uniqueIdentifier, .textString(uids[index]))
                        if index < 3 { record.set(AttributeName(v1Name: "x-Marker"), .textString("old")) }
                        try await server.store.insert(record.encodedForStore())
                    }
                }
            }
            try await group.waitForAll()
        }
        let recorder = RecordingKeyStore(base: server.store)
        let core = KMIPServerCore(
            store: recorder,
            rootKeys: server.rootKeys,
            audit: nil,
            configuration: KMIPServerConfiguration(maxLocateItems: Self.cap, locateScanChunk: Self.chunk),
            clock: { server.clock.now },
            makeIdentifier: { UUID().uuidString.lowercased() }
        )
        return (server, recorder, BatchExecutor(core: core), uids.reversed() + [firstUID])
    }

    static func locate(
        _ executor: BatchExecutor,
        _ request: LocateRequest,
        version: ProtocolVersion = .v1_4
    ) async throws -> LocateResponse {
        let message = RequestMessage(version: version, batchItems: [RequestBatchItem(request)])
        let response = try ResponseMessage(
            decoding: await executor.process(message.encoded(), client: TestServer.tenantA)
        )
        guard case .locate(let payload)? = response.batchItems.first?.payload else {
            throw TestServerError(reason: "Locate failed: \(response.batchItems.first?.resultMessage ?? "")")
        }
        return payload
    }

    static func texts(_ identifiers: [UniqueIdentifier]) -> [String] {
        identifiers.compactMap { if case .text(let uid) = $0 { uid } else { nil } }
    }

    @Test func locateWithoutFilterPagesEveryKeyOnceFromBoundedReads() async throws {
        let (server, recorder, executor, newestFirst) = try await Self.populated()
        defer { withExtendedLifetime(server) {} }

        // No filter, no Maximum Items: the server's cap, the newest keys, read as one page.
        let capped = try await Self.locate(executor, LocateRequest(attributes: []))
        #expect(Self.texts(capped.uniqueIdentifiers) == Array(newestFirst.prefix(Self.cap)))
        // Maximum Items above the cap is capped too.
        let asked = try await Self.locate(executor, LocateRequest(maximumItems: 3_000, attributes: []))
        #expect(asked.uniqueIdentifiers.count == Self.cap)
        #expect(recorder.listings.allSatisfy { !$0.scanned && $0.rowsRead <= Self.cap })

        // Maximum Items and Offset Items page through every key exactly once, newest first.
        recorder.reset()
        var paged: [String] = []
        var offset: Int32 = 0
        while true {
            let page = try await Self.locate(
                executor,
                LocateRequest(maximumItems: 700, offsetItems: offset, attributes: [])
            )
            #expect(page.locatedItems == Int32(newestFirst.count))
            if page.uniqueIdentifiers.isEmpty { break }
            paged += Self.texts(page.uniqueIdentifiers)
            offset += Int32(page.uniqueIdentifiers.count)
        }
        #expect(paged == newestFirst)
        #expect(Set(paged).count == Self.keyCount + 1)
        #expect(recorder.listings.count == 9)
        #expect(recorder.listings.allSatisfy { !$0.scanned && $0.rowsRead <= 700 })
    }

    @Test func locateByAttributeReadsTheStoreInBoundedChunks() async throws {
        let (server, recorder, executor, newestFirst) = try await Self.populated()
        defer { withExtendedLifetime(server) {} }
        let aes = Attribute(.cryptographicAlgorithm, .enumeration(CryptographicAlgorithm.aes.rawValue))

        // Every key matches: the first chunk fills the page and the scan stops there.
        let ten = try await Self.locate(executor, LocateRequest(maximumItems: 10, attributes: [aes]))
        #expect(Self.texts(ten.uniqueIdentifiers) == Array(newestFirst.prefix(10)))
        #expect(recorder.listings.count == 1)
        #expect(recorder.listings.allSatisfy { $0.scanned && $0.rowsRead == Self.chunk && $0.returned == 10 })

        // The three marked keys are the oldest: the scan reads everything, a chunk at a time.
        recorder.reset()
        let marker = Attribute(AttributeName(v1Name: "x-Marker"), .textString("old"))
        let marked = try await Self.locate(executor, LocateRequest(attributes: [marker]))
        #expect(Self.texts(marked.uniqueIdentifiers) == ["clone-2", "clone-1", "clone-0"])
        #expect(recorder.listings.allSatisfy { $0.scanned && $0.largestChunk <= Self.chunk && $0.returned == 3 })

        // Offset Items asks for Located Items: every match is counted, still a chunk at a time,
        // and only the page is kept.
        recorder.reset()
        let counted = try await Self.locate(
            executor,
            LocateRequest(maximumItems: 5, offsetItems: 4_990, attributes: [aes])
        )
        #expect(counted.locatedItems == Int32(newestFirst.count))
        #expect(Self.texts(counted.uniqueIdentifiers) == Array(newestFirst.dropFirst(4_990).prefix(5)))
        #expect(
            recorder.listings.allSatisfy {
                $0.scanned && $0.rowsRead == newestFirst.count && $0.largestChunk <= Self.chunk && $0.returned == 5
            }
        )
    }
}
