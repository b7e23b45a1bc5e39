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

import KeystormTestSupport
import Testing

@testable import RootKeys

/// `count` data keys wrapped by the real Local provider, and a counting double in front of it that
/// takes batches of up to `batchLimit`.
private func batchFixture(
    _ directory: String,
    keys count: Int,
    batchLimit: Int
) async throws -> (CountingRootKeyService, [UnwrapRequest], [SecretBytes]) {
    let local = try await openService(directory)
    let root = try await local.createRootKey(label: "tenant-1").keyID
    var requests: [UnwrapRequest] = []
    var plaintexts: [SecretBytes] = []
    for index in 0..<count {
        let aad = Array("tenant-1/uid-\(index)".utf8)
        let plaintext = try KeyGenerator.randomBytes(count: 32)
        let wrapped = try await local.wrap(plaintext, rootKeyID: root, aad: aad)
        requests.append(
            UnwrapRequest(
                key: KeyCache.Key(tenantID: "tenant-1", uniqueIdentifier: "uid-\(index)"),
                wrapped: wrapped,
                rootKeyID: root,
                aad: aad
            )
        )
        plaintexts.append(plaintext)
    }
    return (CountingRootKeyService(wrapping: local, batchLimit: batchLimit), requests, plaintexts)
}

@Suite("UnwrapBatcher batch window")
struct UnwrapBatcherBatchWindowTests {
    @Test("unwraps started within the window go to a batch-native service in one call")
    func oneBatch() async throws {
        try await withTemporaryDirectory { directory in
            let (service, requests, plaintexts) = try await batchFixture(directory, keys: 5, batchLimit: 8)
            let clock = ManualClock()
            let batcher = UnwrapBatcher(
                service: service,
                cache: KeyCache(clock: clock),
                configuration: .init(batchWindow: .milliseconds(20)),
                clock: clock
            )
            try await withThrowingTaskGroup(of: (Int, SecretBytes).self) { group in
                for index in 0..<5 {
                    group.addTask { (index, try await batcher.unwrap(requests[index]).plaintext) }
                }
                // Five callers' deadlines and the window's timer.
                try await eventually("5 callers wait and the window is open") {
                    batcher.statistics.inFlight == 5 && clock.sleepers == 6
                }
                #expect(service.batchSizes.isEmpty)
                clock.advance(by: .milliseconds(20))
                for try await (index, plaintext) in group {
                    #expect(plaintext.constantTimeEquals(plaintexts[index]))
                }
            }
            #expect(service.batchSizes == [5])
            #expect(service.unwrapCalls == 5)
        }
    }

    @Test("a full batch goes at once; the rest wait for the window")
    func fullBatchGoesAtOnce() async throws {
        try await withTemporaryDirectory { directory in
            let (service, requests, plaintexts) = try await batchFixture(directory, keys: 6, batchLimit: 4)
            let clock = ManualClock()
            let batcher = UnwrapBatcher(
                service: service,
                cache: KeyCache(clock: clock),
                configuration: .init(batchWindow: .seconds(1)),
                clock: clock
            )
            try await withThrowingTaskGroup(of: (Int, SecretBytes).self) { group in
                for index in 0..<6 {
                    group.addTask { (index, try await batcher.unwrap(requests[index]).plaintext) }
                }
                try await eventually("a batch of 4 answered, 2 waiting for the window") {
                    service.batchSizes == [4] && batcher.statistics.inFlight == 2 && clock.sleepers == 3
                }
                clock.advance(by: .seconds(1))
                for try await (index, plaintext) in group {
                    #expect(plaintext.constantTimeEquals(plaintexts[index]))
                }
            }
            #expect(service.batchSizes == [4, 2])
        }
    }

    @Test("a service without native batching gets single unwraps, window or not")
    func noNativeBatching() async throws {
        try await withTemporaryDirectory { directory in
            let (service, requests, plaintexts) = try await batchFixture(directory, keys: 3, batchLimit: 1)
            let batcher = UnwrapBatcher(
                service: service,
                cache: KeyCache(clock: ManualClock()),
                configuration: .init(batchWindow: .seconds(3600)),
                clock: ManualClock()
            )
            for index in 0..<3 {
                #expect(try await batcher.unwrap(requests[index]).plaintext.constantTimeEquals(plaintexts[index]))
            }
            #expect(service.batchSizes.isEmpty)
            #expect(service.unwrapCalls == 3)
        }
    }
}
