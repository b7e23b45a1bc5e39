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

@Suite("Timeouts and limits")
struct LimitsTests {
    @Test(
        "a connection that never finishes its handshake is closed at the timeout while others are served",
        .timeLimit(.minutes(1)),
        arguments: allBackends
    )
    func handshakeTimeout(backend: IOBackendKind) async throws {
        let pki = TestPKI.shared
        let shortHandshake: (inout ReactorConfiguration) -> Void = { $0.handshakeTimeout = .milliseconds(500) }
        try await withServer(backend: backend, tls: try makeServerTLS(), configure: shortHandshake) {
            (server: ReactorServer) async throws in
            let port = server.port
            // One client says nothing; another sends half a ClientHello-sized record header.
            let silentBox = try await onThread { UncheckedBox(try BlockingClient(port: port)) }
            let partialBox = try await onThread { () throws -> UncheckedBox<BlockingClient> in
                let client = try BlockingClient(port: port)
                try client.write([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
                return UncheckedBox(client)
            }
            #expect(try await attempt(port: port, identity: pki.client) == .served)
            // Both are closed by the server (end of stream or a reset), well before the 30 s socket timeout.
            let closed = try await onThread { () -> Bool in
                let first = (try? silentBox.value.read(count: 1)) ?? []
                let second = (try? partialBox.value.read(count: 64)) ?? []
                return first.isEmpty && second.count < 64
            }
            #expect(closed)
            #expect(try await attempt(port: port, identity: pki.client) == .served)
        }
    }

    @Test("a second server cannot take a port a running server listens on", .timeLimit(.minutes(1)), arguments: allBackends)
    func portAlreadyTaken(backend: IOBackendKind) async throws {
        try await withServer(backend: backend, tls: nil) { (server: ReactorServer) async throws in
            var second = ReactorConfiguration()
            second.ioBackend = backend
            second.loopCount = 2
            second.port = server.port
            second.log = { _ in }
            let error = await #expect(throws: IOReactorError.self) { _ = try await ReactorServer(configuration: second) }
            #expect(error?.errno == EADDRINUSE)
            #expect(error?.description.contains("another process") == true)
            // The first server still answers.
            let reply = try await onThread { () throws -> [UInt8] in
                let client = try BlockingClient(port: server.port)
                try client.write([7, 8, 9])
                return try client.read(count: 3)
            }
            #expect(reply == [7, 8, 9])
        }
    }

    @Test("an idle connection is closed at the idle timeout", .timeLimit(.minutes(1)), arguments: allBackends)
    func idleTimeout(backend: IOBackendKind) async throws {
        let shortIdle: (inout ReactorConfiguration) -> Void = { $0.idleTimeout = .milliseconds(300) }
        try await withServer(backend: backend, tls: nil, configure: shortIdle) {
            (server: ReactorServer) async throws in
            let port = server.port
            let reply = try await onThread { () throws -> [UInt8] in
                let client = try BlockingClient(port: port)
                try client.write([1, 2, 3])
                let echo = try client.read(count: 3)
                // Then stay silent: the server ends the connection.
                return echo + ((try? client.read(count: 1)) ?? [])
            }
            #expect(reply == [1, 2, 3])
        }
    }

    @Test("connections over the maximum are closed at accept", .timeLimit(.minutes(1)), arguments: allBackends)
    func maxConnections(backend: IOBackendKind) async throws {
        let twoConnections: (inout ReactorConfiguration) -> Void = { $0.maxConnections = 2 }
        try await withServer(backend: backend, tls: nil, configure: twoConnections) {
            (server: ReactorServer) async throws in
            let port = server.port
            let outcome = try await onThread { () throws -> [Bool] in
                let first = try BlockingClient(port: port)
                let second = try BlockingClient(port: port)
                try first.write([1])
                try second.write([2])
                _ = try first.read(count: 1)
                _ = try second.read(count: 1)
                let third = try BlockingClient(port: port)
                try? third.write([3])
                let thirdServed = ((try? third.read(count: 1)) ?? []) == [3]
                return [thirdServed]
            }
            #expect(outcome == [false])
            #expect(server.refusedConnections >= 1)
        }
    }
}

/// Moves a non-Sendable test object between the test's threads, one at a time.
struct UncheckedBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}

@Suite("Backpressure")
struct BackpressureTests {
    @Test(
        "a client that stops reading blocks only its own writer, which fails at the idle timeout",
        .timeLimit(.minutes(1)),
        arguments: allBackends,
        [false, true]
    )
    func stuckReader(backend: IOBackendKind, useTLS: Bool) async throws {
        let pki = TestPKI.shared
        let outcome = Mutex<String?>(nil)
        // "flood" makes the handler write 8 MiB in 16 KiB writes; anything else is echoed.
        let handler: @Sendable (sending ReactorConnection) async throws -> Void = { connection in
            while let request = try await connection.receive() {
                guard request == Array("flood".utf8) else {
                    try await connection.write(request)
                    continue
                }
                let chunk = [UInt8](repeating: 0x46, count: 16 * 1024)
                do {
                    for _ in 0..<512 { try await connection.write(chunk) }
                    outcome.withLock { $0 = "finished" }
                } catch {
                    outcome.withLock { $0 = "\(error)" }
                    throw error
                }
            }
        }
        let limits: (inout ReactorConfiguration) -> Void = {
            $0.idleTimeout = .seconds(1)
            $0.maxBufferedBytes = 64 * 1024
        }
        let tls = useTLS ? try makeServerTLS() : nil
        try await withServer(backend: backend, tls: tls, configure: limits, handler: handler) {
            (server: ReactorServer) async throws in
            let port = server.port
            let context = try ClientTLSContext(identity: pki.client, caFile: pki.caCertificate)
            // The stuck client asks for a flood and never reads.
            let stuck = try await onThread { () throws -> UncheckedBox<BlockingClient> in
                let client = try BlockingClient(port: port)
                if useTLS { try client.startTLS(context) }
                try client.write(Array("flood".utf8))
                return UncheckedBox(client)
            }
            // Meanwhile another client is served.
            let echoed = try await onThread { () throws -> [UInt8] in
                let client = try BlockingClient(port: port)
                if useTLS { try client.startTLS(context) }
                try client.write([1, 2, 3, 4])
                return try client.read(count: 4)
            }
            #expect(echoed == [1, 2, 3, 4])
            // The stuck writer gives up at the idle timeout (bounded wait, no timing assertion).
            let failed = try await onThread { () -> Bool in
                for _ in 0..<3000 {
                    if outcome.withLock({ $0 }) != nil { break }
                    usleep(10_000)
                }
                return outcome.withLock { $0 }?.contains("timeout") ?? false
            }
            #expect(failed, "\(outcome.withLock { $0 } ?? "still writing")")
            _ = stuck
        }
    }
}
