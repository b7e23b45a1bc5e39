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

/// What the server-side code observed about where it ran.
final class ExecutionLog: Sendable {
    let offLoop = Atomic<Int>(0)
    let threads = Mutex<Set<UInt>>([])

    func record(_ loop: ReactorLoop) {
        if !loop.inEventLoop { self.offLoop.add(1, ordering: .relaxed) }
        let thread = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(bitPattern: UInt(pthread_self()))))
        self.threads.withLock { _ = $0.insert(thread) }
    }
}

/// A per-connection actor pinned to its connection's loop, as the KMIP layer will write it.
actor PinnedSession {
    nonisolated let unownedExecutor: UnownedSerialExecutor
    private let connection: ReactorConnection
    private let log: ExecutionLog

    init(_ connection: sending ReactorConnection, log: ExecutionLog) {
        self.unownedExecutor = connection.serialExecutor
        self.connection = connection
        self.log = log
    }

    func serve() async throws {
        let loop = self.connection.loop
        while let request = try await self.connection.receive() {
            self.log.record(loop)
            try await self.connection.write(request)
            self.log.record(loop)
        }
    }
}

@Suite("Pinned execution")
struct PinnedExecutionTests {
    @Test(
        "connection tasks and pinned actors run on the loop thread, with no remote submits",
        .timeLimit(.minutes(1)),
        arguments: allBackends,
        [false, true]
    )
    func pinned(backend: IOBackendKind, useActor: Bool) async throws {
        let log = ExecutionLog()
        let handler: @Sendable (sending ReactorConnection) async throws -> Void = { connection in
            log.record(connection.loop)
            if useActor {
                try await PinnedSession(connection, log: log).serve()
            } else {
                let loop = connection.loop
                while let request = try await connection.receive() {
                    log.record(loop)
                    try await connection.write(request)
                }
            }
        }
        let pki = TestPKI.shared
        let oneLoop: (inout ReactorConfiguration) -> Void = { $0.loopCount = 1 }
        try await withServer(backend: backend, tls: try makeServerTLS(), configure: oneLoop, handler: handler) {
            (server: ReactorServer) async throws in
            let port = server.port
            let loop = server.loops[0]
            let context = try ClientTLSContext(identity: pki.client, caFile: pki.caCertificate)
            let client = try await onThread { () throws -> UncheckedBox<BlockingClient> in
                let client = try BlockingClient(port: port)
                try client.startTLS(context)
                try client.write(Array(repeating: 7, count: 80))
                _ = try client.read(count: 80)
                return UncheckedBox(client)
            }
            let before = loop.counters.snapshot
            let rounds = 200
            try await onThread {
                for round in 0..<rounds {
                    let request = [UInt8](repeating: UInt8(truncatingIfNeeded: round), count: 80)
                    try client.value.write(request)
                    guard try client.value.read(count: 80) == request else { throw TestFailure("bad echo") }
                }
            }
            let delta = loop.counters.snapshot - before
            try await onThread { client.value.shutdown() }
            #expect(delta.remoteSubmits == 0, "\(delta)")
            #expect(delta.completions >= UInt64(rounds), "\(delta)")
            #expect(delta.jobsRun <= 2 * delta.completions, "\(delta)")
            if useActor { #expect(delta.actorJobsRun > 0, "\(delta)") }
        }
        #expect(log.offLoop.load(ordering: .relaxed) == 0)
        #expect(log.threads.withLock { $0.count } == 1)
    }

    @Test("loop threads are named keystorm-io-N, as top -H and ps -L show them")
    func loopThreadNames() async throws {
        try await withServer(backend: .automatic, tls: nil) { (server: ReactorServer) in
            for loop in server.loops {
                let name = await Task(executorPreference: loop) {
                    (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
                }.value
                #expect(name.trimmingCharacters(in: .whitespacesAndNewlines) == "keystorm-io-\(loop.index)")
            }
        }
    }
}
