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
import IOReactor
import Synchronization
import Testing

/// Waits (on a thread of its own, bounded) until `condition` holds; returns whether it did.
func eventually(within seconds: Double = 20, _ condition: @escaping @Sendable () -> Bool) async throws -> Bool {
    try await onThread {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }
}

@Suite("Connection floods")
struct FloodTests {
    /// A handshake budget of 8 and timeouts long enough that only eviction closes a handshake.
    static let budgetOfEight: @Sendable (inout ReactorConfiguration) -> Void = {
        $0.maxHandshakingConnections = 8
        $0.handshakeTimeout = .seconds(60)
        $0.handshakeTimeoutUnderPressure = .seconds(60)
    }

    /// A client that has sent the start of a TLS record, as one does right after connecting.
    static func talkingClient(port: Int, source: String?) throws -> BlockingClient {
        let client = try BlockingClient(port: port, source: source)
        try client.write([0x16, 0x03, 0x01])
        return client
    }

    /// `count` talking clients from `source(index)`, opened one at a time, each given time to be
    /// read (to count as talking): otherwise the newest, still silent, arrivals would be evicted
    /// first whatever the policy.
    static func talkingClients(
        port: Int,
        count: Int,
        source: @escaping @Sendable (Int) -> String?
    ) async throws -> UncheckedBox<[BlockingClient]> {
        try await onThread {
            UncheckedBox(
                try (0..<count).map {
                    let client = try Self.talkingClient(port: port, source: source($0))
                    usleep(30_000)
                    return client
                }
            )
        }
    }

    @Test(
        "idle connections that never handshake cannot lock out or evict clients with a certificate",
        .timeLimit(.minutes(1)),
        arguments: allBackends
    )
    func idleFloodDoesNotStarveClients(backend: IOBackendKind) async throws {
        let pki = TestPKI.shared
        let limits: (inout ReactorConfiguration) -> Void = {
            $0.maxConnections = 16
            $0.maxHandshakingConnections = 6
            $0.maxHandshakesPerSource = 4
            // Long enough that no timeout frees a slot during the test.
            $0.handshakeTimeout = .seconds(60)
            $0.handshakeTimeoutUnderPressure = .seconds(60)
        }
        try await withServer(backend: backend, tls: try makeServerTLS(), configure: limits) {
            (server: ReactorServer) async throws in
            let port = server.port
            let context = try ClientTLSContext(identity: pki.client, caFile: pki.caCertificate)
            // Four authenticated clients that stay connected.
            let clients = try await onThread { () throws -> UncheckedBox<[BlockingClient]> in
                var clients: [BlockingClient] = []
                for index in 0..<4 {
                    let client = try BlockingClient(port: port)
                    try client.startTLS(context)
                    try client.write([UInt8(index)])
                    guard try client.read(count: 1) == [UInt8(index)] else { throw TestFailure("no echo") }
                    clients.append(client)
                }
                return UncheckedBox(clients)
            }
            // A flood of silent TCP connections from eight sources, four each: more than the
            // connection limit and than the handshake budget.
            let flood = try await onThread { () throws -> UncheckedBox<[BlockingClient]> in
                var flood: [BlockingClient] = []
                for source in 2...9 {
                    for _ in 0..<4 { flood.append(try BlockingClient(port: port, source: "127.0.0.\(source)")) }
                }
                return UncheckedBox(flood)
            }
            #expect(try await eventually { server.statistics.accepted >= 4 + 32 })
            #expect(server.statistics.evictedHandshakes > 0)

            // A new client with a certificate is served, and so is every authenticated client.
            #expect(try await attempt(port: port, identity: pki.client) == .served)
            let echoes = try await onThread { () throws -> [Bool] in
                try clients.value.enumerated().map { index, client in
                    try client.write([UInt8(index + 10)])
                    return try client.read(count: 1) == [UInt8(index + 10)]
                }
            }
            #expect(echoes == [true, true, true, true])
            #expect(server.refusedConnections == 0)
            _ = flood
        }
    }

    @Test(
        "a client that has sent its first bytes is not evicted by connections that sent nothing",
        .timeLimit(.minutes(1)),
        arguments: allBackends
    )
    func silentConnectionsAreEvictedFirst(backend: IOBackendKind) async throws {
        try await withServer(backend: backend, tls: try makeServerTLS(), configure: Self.budgetOfEight) {
            (server: ReactorServer) async throws in
            let port = server.port
            // The start of a TLS record, as a client sends it right after connecting; then a flood
            // of silent connections, more than the handshake budget, from several sources.
            let talking = try await onThread { UncheckedBox(try Self.talkingClient(port: port, source: nil)) }
            #expect(try await eventually { server.statistics.accepted >= 1 })
            let flood = try await onThread { () throws -> UncheckedBox<[BlockingClient]> in
                UncheckedBox(try (0..<24).map { try BlockingClient(port: port, source: "127.0.0.\(2 + $0 % 6)") })
            }
            #expect(try await eventually { server.statistics.accepted >= 25 })
            #expect(try await eventually { flood.value.filter(\.closedByPeer).count >= 24 - 8 })
            #expect(server.statistics.evictedHandshakes >= 24 - 8)
            #expect(!talking.value.closedByPeer)
        }
    }

    @Test(
        "a flood of talking handshakes from a few sources evicts its own connections, not another source's",
        .timeLimit(.minutes(1)),
        arguments: allBackends
    )
    func busiestSourceIsEvictedFirst(backend: IOBackendKind) async throws {
        let oneLoop: (inout ReactorConfiguration) -> Void = {
            Self.budgetOfEight(&$0)
            $0.loopCount = 1
        }
        try await withServer(backend: backend, tls: try makeServerTLS(), configure: oneLoop) {
            (server: ReactorServer) async throws in
            let port = server.port
            // The victim's handshake is the oldest in the budget; then an attacker from two
            // sources opens talking connections (the start of a ClientHello), three times the budget.
            let victim = try await onThread { UncheckedBox(try Self.talkingClient(port: port, source: "127.0.0.9")) }
            #expect(try await eventually { server.statistics.accepted >= 1 })
            let flood = try await Self.talkingClients(port: port, count: 24) { "127.0.0.\(2 + $0 % 2)" }
            #expect(try await eventually { server.statistics.accepted >= 25 })
            #expect(try await eventually { flood.value.filter(\.closedByPeer).count >= 24 - 7 })
            // Oldest-first alone would have evicted the victim with the first newcomer.
            #expect(!victim.value.closedByPeer)
        }
    }

    @Test(
        "one source holds at most its limit of handshakes; further connections are closed at accept",
        .timeLimit(.minutes(1)),
        arguments: allBackends
    )
    func perSourceLimit(backend: IOBackendKind) async throws {
        let pki = TestPKI.shared
        let limits: (inout ReactorConfiguration) -> Void = {
            $0.maxHandshakesPerSource = 3
            $0.handshakeTimeout = .seconds(60)
            $0.handshakeTimeoutUnderPressure = .seconds(60)
        }
        try await withServer(backend: backend, tls: try makeServerTLS(), configure: limits) {
            (server: ReactorServer) async throws in
            let port = server.port
            let flood = try await onThread { () throws -> UncheckedBox<[BlockingClient]> in
                UncheckedBox(try (0..<8).map { _ in try BlockingClient(port: port, source: "127.0.0.2") })
            }
            // Five of the eight are closed by the server; three wait in their handshake.
            #expect(try await eventually { flood.value.filter(\.closedByPeer).count == 5 })
            #expect(server.statistics.refusedPerSource == 5)
            // Another source, and a client that completes its handshake, are unaffected.
            #expect(try await attempt(port: port, identity: pki.client) == .served)
            // When the three finish (here: close), the source may open new connections again.
            let reopened = try await onThread { () throws -> Bool in
                for client in flood.value { client.shutdown() }
                return true
            }
            #expect(reopened)
            #expect(try await eventually { server.activeConnections == 0 })
            let again = try await onThread { () throws -> UncheckedBox<BlockingClient> in
                UncheckedBox(try BlockingClient(port: port, source: "127.0.0.2"))
            }
            #expect(try await eventually { server.statistics.accepted >= 8 - 5 + 1 + 1 })
            #expect(!again.value.closedByPeer)
            #expect(server.statistics.refusedPerSource == 5)
        }
    }
}
