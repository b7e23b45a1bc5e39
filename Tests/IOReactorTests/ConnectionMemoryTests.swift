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
import Testing

@Suite("Memory held by connections")
struct ConnectionMemoryTests {
    @Test(
        "a connection that sends nothing holds no TLS session; one that sends gets one, and gives it back",
        .timeLimit(.minutes(1)),
        arguments: allBackends
    )
    func idleConnectionsHoldNoTLSState(backend: IOBackendKind) async throws {
        let pki = TestPKI.shared
        let tls = try makeServerTLS()
        let limits: (inout ReactorConfiguration) -> Void = {
            $0.handshakeTimeout = .seconds(60)
            $0.handshakeTimeoutUnderPressure = .seconds(60)
        }
        try await withServer(backend: backend, tls: tls, configure: limits) { (server: ReactorServer) async throws in
            let port = server.port
            let idle = try await onThread { () throws -> UncheckedBox<[BlockingClient]> in
                UncheckedBox(try (0..<20).map { _ in try BlockingClient(port: port) })
            }
            #expect(try await eventually { server.statistics.accepted >= 20 })
            #expect(tls.openSessions == 0)

            // The first byte of a ClientHello makes a session for that connection only.
            try await onThread { try idle.value[0].write([0x16]) }
            #expect(try await eventually { tls.openSessions == 1 })
            #expect(try await attempt(port: port, identity: pki.client) == .served)

            try await onThread { for client in idle.value { client.shutdown() } }
            #expect(try await eventually { server.activeConnections == 0 })
            #expect(tls.openSessions == 0)
        }
    }

    @Test("freed memory is given back to the kernel after many connections closed", .timeLimit(.minutes(1)))
    func memoryIsTrimmedAfterConnectionsClose() async throws {
        let limits: (inout ReactorConfiguration) -> Void = { $0.memoryTrimThreshold = 8 }
        try await withServer(backend: .automatic, tls: nil, configure: limits) { (server: ReactorServer) async throws in
            let port = server.port
            #expect(server.statistics.memoryTrims == 0)
            let clients = try await onThread { () throws -> UncheckedBox<[BlockingClient]> in
                let clients = try (0..<12).map { _ in try BlockingClient(port: port) }
                for client in clients {
                    try client.write([1])
                    _ = try client.read(count: 1)
                }
                return UncheckedBox(clients)
            }
            #expect(server.statistics.memoryTrims == 0)
            try await onThread { for client in clients.value { client.shutdown() } }
            #expect(try await eventually { server.activeConnections == 0 })
            #expect(try await eventually { server.statistics.memoryTrims >= 1 })
        }
    }
}
