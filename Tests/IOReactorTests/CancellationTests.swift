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

@Suite("Task cancellation of reads")
struct CancellationTests {
    /// Runs `handler` against one plain client that sends "go" and then stays silent (the idle
    /// timeout is a minute, so only cancellation can end the read), and returns what the handler recorded.
    func run(
        backend: IOBackendKind,
        handler: @escaping @Sendable (sending ReactorConnection, EventLog) async throws -> Void
    ) async throws -> [String] {
        let log = EventLog()
        let (done, doneContinuation) = AsyncStream<Void>.makeStream()
        let serve: @Sendable (sending ReactorConnection) async throws -> Void = { connection in
            defer { doneContinuation.yield() }
            try await handler(connection, log)
        }
        let longIdle: (inout ReactorConfiguration) -> Void = { $0.idleTimeout = .seconds(60) }
        try await withServer(backend: backend, tls: nil, configure: longIdle, handler: serve) {
            (server: ReactorServer) async throws in
            let port = server.port
            let client = try await onThread { () throws -> UncheckedBox<BlockingClient> in
                let client = try BlockingClient(port: port)
                try client.write(Array("go".utf8))
                return UncheckedBox(client)
            }
            var iterator = done.makeAsyncIterator()
            _ = await iterator.next()
            _ = client
        }
        return log.entries
    }

    @Test(
        "a read in the connection's own task ends when that task is cancelled",
        .timeLimit(.minutes(1)),
        arguments: allBackends
    )
    func servingTask(backend: IOBackendKind) async throws {
        let log = try await self.run(backend: backend) { connection, log in
            _ = try await connection.receive()
            // Cancel this very task from elsewhere while it waits in a read.
            let task = withUnsafeCurrentTask { UncheckedBox($0!) }
            Task.detached {
                try? await Task.sleep(for: .milliseconds(50))
                task.value.cancel()
            }
            do {
                _ = try await connection.receive()
                log.append("read returned")
            } catch {
                log.append("\(error)")
            }
            // Already cancelled: the next read fails at once.
            do {
                _ = try await connection.receive()
            } catch {
                log.append("\(error)")
            }
        }
        #expect(log.count == 2)
        #expect(log.allSatisfy { $0.contains("IOReactorError.cancelled") }, "\(log)")
    }

    @Test("a read in a child task ends when the child is cancelled", .timeLimit(.minutes(1)), arguments: allBackends)
    func childTask(backend: IOBackendKind) async throws {
        let log = try await self.run(backend: backend) { connection, log in
            _ = try await connection.receive()
            let shared = UncheckedBox(connection)  // the child runs on the same loop (inherited preference)
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        _ = try await shared.value.receive()
                        log.append("read returned")
                    } catch {
                        log.append("\(error)")
                    }
                }
                try? await Task.sleep(for: .milliseconds(50))
                group.cancelAll()
            }
        }
        #expect(log.count == 1)
        #expect(log.first?.contains("IOReactorError.cancelled") == true, "\(log)")
    }
}

/// Lines recorded by handlers, read by the test afterwards.
final class EventLog: Sendable {
    private let lines = Mutex<[String]>([])

    func append(_ line: String) { self.lines.withLock { $0.append(line) } }

    var entries: [String] { self.lines.withLock { $0 } }
}
