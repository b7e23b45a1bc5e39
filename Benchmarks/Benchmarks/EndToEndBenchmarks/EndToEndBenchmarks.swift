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

import Benchmark
import KMIPCodec
import KMIPModel
import KMIPServer
import KeystormTestSupport
import RootKeys
import Synchronization

let benchmarks: @Sendable () -> Void = {
    // One iteration is one Get. Names have no spaces (see KMIPCodecBenchmarks).
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal, .cpuTotal, .mallocFreeDelta],
        warmupIterations: 10,
        scalingFactor: .one,
        maxDuration: .seconds(2),
        maxIterations: 10_000,
        thresholds: [.mallocCountTotal: .init(relative: [.p90: 2.0])]
    )

    // The server of the running benchmark, released by its teardown (which removes its directory).
    let running = Mutex<TestServer?>(nil)

    // A KMIP 1.1 Get of a cached AES-256 key, as vCenter sends it, from the request's bytes to the
    // response's: BatchExecutor decodes the request, authorizes tenant-a, reads the object from
    // SQLite, takes the key material from the key cache, appends the audit line (and waits for its
    // fsync), and encodes the response.
    Benchmark("GetCached.executor") { (benchmark: Benchmark, fixture: GetFixture) in
        for _ in benchmark.scaledIterations {
            blackHole(await fixture.server.send(fixture.request))
        }
    } setup: {
        let fixture = try await GetFixture.make()
        running.withLock { $0 = fixture.server }
        return fixture
    } teardown: {
        running.withLock { $0 = nil }
    }

    // The same Get through KMIPConnectionHandler, as the transport delivers it: a connection whose
    // client sends the request's bytes and then closes. The handler frames the bytes, runs the
    // batch, sends the response and closes.
    Benchmark("GetCached.connection") { (benchmark: Benchmark, fixture: GetFixture) in
        let handler = KMIPConnectionHandler(executor: fixture.server.executor)
        for _ in benchmark.scaledIterations {
            let channel = LoopbackChannel(request: fixture.request)
            await handler.serve(channel, client: TestServer.tenantA)
            blackHole(channel.response)
        }
    } setup: {
        let fixture = try await GetFixture.make()
        let handler = KMIPConnectionHandler(executor: fixture.server.executor)
        let channel = LoopbackChannel(request: fixture.request)
        await handler.serve(channel, client: TestServer.tenantA)
        try fixture.expectKey(in: channel.response)
        running.withLock { $0 = fixture.server }
        return fixture
    } teardown: {
        running.withLock { $0 = nil }
    }
}

/// A test server (SQLite file, Local root keys, audit log file, key cache and unwrap batcher in a
/// temporary directory), one AES-256 key of tenant-a in it and in the cache, and the bytes of a
/// Get of that key.
struct GetFixture: Sendable {
    var server: TestServer
    var request: [UInt8]
    var material: [UInt8]

    static func make() async throws -> GetFixture {
        let server = try await TestServer.make(keyAccess: { KeyAccess(service: $0) })
        let create = CreateRequest(
            objectType: .symmetricKey,
            attributes: [
                Attribute(.cryptographicAlgorithm, .enumeration(CryptographicAlgorithm.aes.rawValue)),
                Attribute(.cryptographicUsageMask, .integer(12)),
                Attribute(.cryptographicLength, .integer(256)),
            ]
        )
        guard case .create(let created)? = try await server.call(create).payload else {
            throw BenchmarkSetupError(reason: "Create failed")
        }
        let request = RequestMessage(
            version: .v1_1,
            batchItems: [RequestBatchItem(GetRequest(uniqueIdentifier: created.uniqueIdentifier))]
        ).encoded()
        // The first Get unwraps the key into the cache and clears its Fresh attribute (a write);
        // from the second on, a Get only reads the store and the cache.
        var fixture = GetFixture(server: server, request: request, material: [])
        fixture.material = try fixture.key(in: await server.send(request))
        try fixture.expectKey(in: await server.send(request))
        guard let keyAccess = server.keyAccess, keyAccess.batcher.statistics.unwraps == 1 else {
            throw BenchmarkSetupError(reason: "the second Get did not come from the key cache")
        }
        return fixture
    }

    /// The key material of a successful Get response.
    func key(in response: [UInt8]) throws -> [UInt8] {
        let message = try ResponseMessage(decoding: response)
        guard message.batchItems.count == 1, case .get(let get)? = message.batchItems[0].payload,
            let material = get.object.keyBlock?.keyMaterialBytes, material.count == 32
        else {
            throw BenchmarkSetupError(reason: "the Get did not return a 32-byte key")
        }
        return material
    }

    /// Throws unless `response` is a successful Get that returned this fixture's key.
    func expectKey(in response: [UInt8]) throws {
        guard try self.key(in: response) == self.material else {
            throw BenchmarkSetupError(reason: "the Get returned other key material")
        }
    }
}

/// One client connection over no network: the client sends one request and closes its side.
final class LoopbackChannel: KMIPByteChannel {
    private var request: [UInt8]?
    private(set) var response: [UInt8] = []

    init(request: [UInt8]) {
        self.request = request
    }

    func receive() async throws -> [UInt8]? {
        defer { self.request = nil }
        return self.request
    }

    func send(_ bytes: [UInt8]) async throws {
        self.response += bytes
    }

    func close() async {}
}

struct BenchmarkSetupError: Error, CustomStringConvertible {
    var reason: String
    var description: String { self.reason }
}
