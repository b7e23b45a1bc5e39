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
import KeystormTestSupport
import Synchronization
import Testing

extension LiveServerTests {
    /// A Create is durable before its response is sent: kill -9 during a stream of Creates, restart
    /// on the same data directory, and every Create answered Success is there with its material.
    @Suite("Durability, live")
    struct DurabilityLiveTests {
        /// Creates answered Success before the kill, with the key material the response carried.
        final class Ledger: Sendable {
            let keys = Mutex<[(uid: UniqueIdentifier, material: [UInt8])]>([])
            /// Set just before the kill: a failed request after it ends the stream.
            let killed = Atomic<Bool>(false)
            var count: Int { self.keys.withLock { $0.count } }
        }

        /// One stream of Creates until a request fails after the kill (bounded): a description of
        /// how it ended, or `nil` when it never failed.
        static func stream(
            _ stream: Int,
            client: KMIPTLSClient,
            batch: RequestMessage,
            ledger: Ledger
        ) async throws -> String? {
            for attempt in 1...20_000 {
                let response: ResponseMessage
                do {
                    response = try await client.send(batch)
                } catch {
                    guard ledger.killed.load(ordering: .acquiring) else {
                        throw LiveTestFailure("stream \(stream) request \(attempt) failed before the kill: \(error)")
                    }
                    return "stream \(stream) request \(attempt) failed after the kill: \(error)"
                }
                guard response.batchItems.count == 2,
                    response.batchItems.allSatisfy({ $0.resultStatus == .success }),
                    case .create(let created)? = response.batchItems[0].payload,
                    case .get(let got)? = response.batchItems[1].payload,
                    let material = got.object.keyBlock?.keyMaterialBytes
                else {
                    throw LiveTestFailure(
                        "stream \(stream) request \(attempt): not Create + Get success: \(response.batchItems)"
                    )
                }
                #expect(got.uniqueIdentifier == created.uniqueIdentifier)
                #expect(material.count == 32)
                ledger.keys.withLock { $0.append((created.uniqueIdentifier, material)) }
            }
            return nil
        }

        @Test func everyCreateAnsweredSuccessSurvivesKill9() async throws {
            try await LiveServer.with { server in
                let client = try server.client()
                let ledger = Ledger()
                let killAfter = 50
                let streams = 3

                // One request per Create, as a batch Create + Get (ID Placeholder), so the
                // response carries the material; one connection per request, as vCenter does;
                // three streams at once, so that Creates are in flight (and in one group commit)
                // when the server dies.
                let batch = RequestMessage(
                    version: .v1_1,
                    batchItems: [
                        RequestBatchItem(aes256Create(), uniqueBatchItemID: [1]),
                        RequestBatchItem(GetRequest(uniqueIdentifier: nil), uniqueBatchItemID: [2]),
                    ]
                )
                let streamEnds = try await withThrowingTaskGroup(of: String?.self) { group in
                    for stream in 1...streams {
                        group.addTask { try await Self.stream(stream, client: client, batch: batch, ledger: ledger) }
                    }
                    group.addTask {
                        // The killer: kill -9 once ~50 Creates were answered (bounded wait).
                        _ = try await retrying(
                            timeout: .seconds(600),
                            every: .milliseconds(5),
                            "\(killAfter) Creates answered"
                        ) {
                            ledger.count >= killAfter ? true : nil
                        }
                        ledger.killed.store(true, ordering: .releasing)
                        try await server.kill9()
                        return nil
                    }
                    var ends: [String] = []
                    for try await result in group {
                        if let result { ends.append(result) }
                    }
                    return ends
                }
                let answered = ledger.keys.withLock { $0 }
                #expect(streamEnds.count == streams, "not every stream stopped after the kill: \(streamEnds)")
                #expect(answered.count >= killAfter)

                try await server.restart()
                let after = try server.client()
                let connection = try await after.connect()
                var missing: [String] = []
                for (uid, material) in answered {
                    let response = try await connection.send(
                        RequestMessage(
                            version: .v1_1,
                            batchItems: [RequestBatchItem(GetRequest(uniqueIdentifier: uid))]
                        )
                    )
                    guard case .get(let got)? = response.batchItems.first?.payload else {
                        missing.append(
                            "\(uid): \(response.batchItems.first?.resultReason?.name ?? "?") \(response.batchItems.first?.resultMessage ?? "")"
                        )
                        continue
                    }
                    if got.object.keyBlock?.keyMaterialBytes != material {
                        missing.append("\(uid): different key material")
                    }
                }
                await connection.close()
                #expect(
                    missing.isEmpty,
                    "\(missing.count) of \(answered.count) answered Creates lost: \(missing.prefix(10))"
                )
                print(
                    "durability live: \(answered.count) Creates answered Success before kill -9, \(answered.count - missing.count) retrieved with the same material after restart; \(streamEnds.joined(separator: "; "))"
                )
            }
        }
    }
}
