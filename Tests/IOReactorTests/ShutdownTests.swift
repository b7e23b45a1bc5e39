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

@Suite("Graceful shutdown")
struct ShutdownTests {
    @Test(
        "an in-flight request is answered, idle connections end, new ones are refused",
        .timeLimit(.minutes(1)),
        arguments: allBackends
    )
    func drains(backend: IOBackendKind) async throws {
        let pki = TestPKI.shared
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
        let releaseBox = Mutex<AsyncStream<Void>.AsyncIterator?>(release.makeAsyncIterator())
        // Reads one request, signals, waits for the test's release, then answers.
        let handler: @Sendable (sending ReactorConnection) async throws -> Void = { connection in
            while let request = try await connection.receive() {
                if request == Array("slow".utf8) {
                    startedContinuation.yield()
                    var iterator = releaseBox.withLock { $0.take() }
                    _ = await iterator?.next()
                }
                try await connection.write(request)
            }
        }
        var configuration = ReactorConfiguration()
        configuration.ioBackend = backend
        configuration.loopCount = 2
        configuration.tls = try makeServerTLS()
        configuration.log = { _ in }
        let server = try await ReactorServer(configuration: configuration)
        let runner = Task { try await server.run(handler: handler) }
        let port = server.port
        let context = try ClientTLSContext(identity: pki.client, caFile: pki.caCertificate)

        // An idle client, and a client whose request is in flight.
        let idle = try await onThread { () throws -> UncheckedBox<BlockingClient> in
            let client = try BlockingClient(port: port)
            try client.startTLS(context)
            try client.write(Array("idle".utf8))
            _ = try client.read(count: 4)
            return UncheckedBox(client)
        }
        let busy = try await onThread { () throws -> UncheckedBox<BlockingClient> in
            let client = try BlockingClient(port: port)
            try client.startTLS(context)
            try client.write(Array("slow".utf8))
            return UncheckedBox(client)
        }
        var startedIterator = started.makeAsyncIterator()
        _ = await startedIterator.next()

        server.shutdown(gracePeriod: .seconds(30))
        // The idle connection ends (close_notify) without waiting for the grace period.
        let idleEnded = try await onThread { ((try? idle.value.readToEnd()) ?? [0]).isEmpty }
        #expect(idleEnded)
        // New connections are refused once every loop processed the shutdown (bounded retries).
        let refused = try await onThread { () -> Bool in
            for _ in 0..<500 {
                guard (try? BlockingClient(port: port, timeoutSeconds: 5)) != nil else { return true }
                usleep(10_000)
            }
            return false
        }
        #expect(refused)
        // The in-flight request still gets its answer, then the connection ends.
        releaseContinuation.yield()
        let answer = try await onThread { try busy.value.readToEnd() }
        #expect(answer == Array("slow".utf8))
        try await runner.value
        #expect(server.activeConnections == 0)
    }

    @Test("handlers still running at the deadline are cancelled", .timeLimit(.minutes(1)), arguments: allBackends)
    func deadline(backend: IOBackendKind) async throws {
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let cancelled = Atomic<Bool>(false)
        let handler: @Sendable (sending ReactorConnection) async throws -> Void = { connection in
            _ = try await connection.receive()
            startedContinuation.yield()
            do {
                try await Task.sleep(for: .seconds(120))
            } catch {
                cancelled.store(true, ordering: .relaxed)
            }
        }
        var configuration = ReactorConfiguration()
        configuration.ioBackend = backend
        configuration.loopCount = 1
        configuration.log = { _ in }
        let server = try await ReactorServer(configuration: configuration)
        let runner = Task { try await server.run(handler: handler) }
        let port = server.port
        let client = try await onThread { () throws -> UncheckedBox<BlockingClient> in
            let client = try BlockingClient(port: port)
            try client.write([1])
            return UncheckedBox(client)
        }
        var iterator = started.makeAsyncIterator()
        _ = await iterator.next()
        server.shutdown(gracePeriod: .milliseconds(200))
        try await runner.value
        let wasCancelled = cancelled.load(ordering: .relaxed)
        #expect(wasCancelled)
        let ended = try await onThread { ((try? client.value.readToEnd()) ?? []).isEmpty }
        #expect(ended)
    }
}

@Suite("Cancelling run")
struct RunCancellationTests {
    @Test("cancelling the task that runs the server closes every connection and returns", .timeLimit(.minutes(1)))
    func cancelRun() async throws {
        var configuration = ReactorConfiguration()
        configuration.loopCount = 2
        configuration.log = { _ in }
        let server = try await ReactorServer(configuration: configuration)
        let runner = Task { try await server.run(handler: TestHandlers.echo) }
        let port = server.port
        let client = try await onThread { () throws -> UncheckedBox<BlockingClient> in
            let client = try BlockingClient(port: port)
            try client.write([1])
            _ = try client.read(count: 1)
            return UncheckedBox(client)
        }
        runner.cancel()
        try await runner.value
        let ended = try await onThread { ((try? client.value.readToEnd()) ?? []).isEmpty }
        #expect(ended)
        #expect(server.activeConnections == 0)
    }
}
