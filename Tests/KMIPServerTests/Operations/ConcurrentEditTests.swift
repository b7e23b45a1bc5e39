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
import MetricsTestKit
import Testing

/// Edits of one key from many connections at once: a lost optimistic-revision race is retried
/// inside the server, not answered as a store failure.
@Suite("Concurrent edits")
struct ConcurrentEditTests {
    /// Sends one operation through `executor` (which reports to a test metrics factory).
    static func call<P: KMIPRequestPayload>(
        _ executor: BatchExecutor,
        _ payload: P,
        version: ProtocolVersion
    ) async throws -> ResponseBatchItem {
        let request = RequestMessage(version: version, batchItems: [RequestBatchItem(payload)])
        let bytes = await executor.process(request.encoded(), client: TestServer.tenantA)
        let response = try ResponseMessage(decoding: bytes)
        guard response.batchItems.count == 1 else {
            throw TestServerError(reason: "expected one response item, got \(response.batchItems.count)")
        }
        return response.batchItems[0]
    }

    @Test(arguments: [ProtocolVersion.v1_4, .v2_1])
    func concurrentAddAndModifyAttributeOfOneKeyAllSucceed(version: ProtocolVersion) async throws {
        let server = try await TestServer.make()
        let metrics = TestMetrics()
        let executor = BatchExecutor(core: server.executor.core, metrics: metrics)
        let uid = try await server.createKey(version: version)
        let modified = 8
        for i in 0..<modified {
            let item = try await Self.call(
                executor,
                AddAttributeRequest(
                    uniqueIdentifier: uid,
                    attribute: .custom("x-Modified-\(i)", .textString("before"))
                ),
                version: version
            )
            #expect(item.resultStatus == .success)
        }
        // Every edit of this test reads the same revision at first, and there are more of them than
        // an edit has attempts: only taking turns lets them all succeed.
        let added = 40
        let results = try await withThrowingTaskGroup(of: ResponseBatchItem.self) { group in
            for i in 0..<added {
                group.addTask {
                    try await Self.call(
                        executor,
                        AddAttributeRequest(
                            uniqueIdentifier: uid,
                            attribute: .custom("x-Added", .textString("value-\(i)"))
                        ),
                        version: version
                    )
                }
            }
            for i in 0..<modified {
                group.addTask {
                    try await Self.call(
                        executor,
                        ModifyAttributeRequest(
                            uniqueIdentifier: uid,
                            attribute: .custom("x-Modified-\(i)", .textString("after"))
                        ),
                        version: version
                    )
                }
            }
            var results: [ResponseBatchItem] = []
            for try await item in group { results.append(item) }
            return results
        }
        #expect(results.count == added + modified)
        for item in results {
            #expect(item.resultStatus == .success, "\(item.resultReason?.name ?? "none"): \(item.resultMessage ?? "")")
        }
        // KMIP 1.x: each Add Attribute answered a different index, 0..<added.
        if version.major < 2 {
            let indexes = results.compactMap { item -> Int32? in
                guard case .addAttribute(let payload)? = item.payload else { return nil }
                return payload.attribute?.index ?? 0
            }
            #expect(indexes.sorted() == (0..<Int32(added)).map { $0 })
        }

        let item = try await Self.call(executor, GetAttributesRequest(uniqueIdentifier: uid), version: version)
        guard case .getAttributes(let payload)? = item.payload else {
            Issue.record("Get Attributes failed: \(item.resultMessage ?? "")")
            return
        }
        let values = payload.attributes.filter { $0.name == AttributeName(v1Name: "x-Added") }.map(\.value)
        #expect(Set(values) == Set((0..<added).map { TTLVValue.textString("value-\($0)") }))
        #expect(values.count == added)
        for i in 0..<modified {
            let instances = payload.attributes.filter { $0.name == AttributeName(v1Name: "x-Modified-\(i)") }
            #expect(instances.map(\.value) == [.textString("after")])
        }
        // The lost races are not store errors.
        #expect(metrics.counters.filter { $0.label == KMIPMetricNames.storeErrors }.allSatisfy { $0.totalValue == 0 })
        #expect(
            try metrics.expectTimer(KMIPMetricNames.storeDuration, [("operation", "update")]).values.count >= added
                + modified
        )
    }

    @Test(arguments: [ProtocolVersion.v1_4, .v2_1])
    func anEditThatKeepsLosingSaysSoAndIsNoStoreError(version: ProtocolVersion) async throws {
        let server = try await TestServer.make()
        let uid = try await server.createKey(version: version)
        guard case .text(let text) = uid else { throw TestServerError(reason: "no text identifier") }
        // Every update loses to a (pretend) concurrent writer.
        let store = RecordingKeyStore(base: server.store, conflictOnUpdate: true)
        let metrics = TestMetrics()
        let core = KMIPServerCore(
            store: store,
            rootKeys: server.rootKeys,
            audit: nil,
            clock: { server.clock.now },
            makeIdentifier: { "unused" }
        )
        let executor = BatchExecutor(core: core, metrics: metrics)
        let item = try await Self.call(
            executor,
            AddAttributeRequest(uniqueIdentifier: uid, attribute: .custom("x-Added", .textString("value"))),
            version: version
        )
        expectFailure(item, .generalFailure)
        #expect(item.resultMessage == "concurrent update of \(text); retry")
        #expect(store.updates == 16)
        #expect(metrics.counters.filter { $0.label == KMIPMetricNames.storeErrors }.allSatisfy { $0.totalValue == 0 })
    }

    @Test func editsOfOneKeyTakeTurnsInsteadOfRacing() async throws {
        let server = try await TestServer.make()
        let uid = try await server.createKey(version: .v1_4)
        let store = RecordingKeyStore(base: server.store)
        let core = KMIPServerCore(
            store: store,
            rootKeys: server.rootKeys,
            audit: nil,
            clock: { server.clock.now },
            makeIdentifier: { "unused" }
        )
        let executor = BatchExecutor(core: core, metrics: TestMetrics())
        let edits = 48
        try await withThrowingTaskGroup(of: ResponseBatchItem.self) { group in
            for i in 0..<edits {
                group.addTask {
                    try await Self.call(
                        executor,
                        AddAttributeRequest(uniqueIdentifier: uid, attribute: .custom("x-Turn", .textString("\(i)"))),
                        version: .v1_4
                    )
                }
            }
            for try await item in group { #expect(item.resultStatus == .success, "\(item.resultMessage ?? "")") }
        }
        // An edit that waited re-reads the object; only one that read it before its turn came and
        // found it free can lose, once. Racing, the losers of every round would lose again.
        #expect(store.conflicts <= edits)
        #expect(store.updates - store.conflicts == edits)
    }
}
