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

import Synchronization
import Testing

@testable import IOReactor

@Suite("I/O backend selection")
struct BackendSelectionTests {
    @Test("automatic falls back to epoll, and logs it, when io_uring cannot be set up", .timeLimit(.minutes(1)))
    func fallback() async throws {
        let messages = Mutex<[String]>([])
        var configuration = ReactorConfiguration()
        configuration.ioBackend = .automatic
        configuration.loopCount = 1
        configuration.simulateUringFailure = true
        configuration.log = { message in messages.withLock { $0.append(message) } }
        let server = try await ReactorServer(configuration: configuration)
        #expect(server.backend == .epoll)
        #expect(messages.withLock { $0.contains { $0.contains("falling back to epoll") } })
        let runner = Task { try await server.run(handler: TestHandlers.echo) }
        let port = server.port
        let echoed = try await onThread {
            let client = try BlockingClient(port: port)
            try client.write([9, 8, 7])
            return try client.read(count: 3)
        }
        #expect(echoed == [9, 8, 7])
        server.shutdown(gracePeriod: .seconds(1))
        try await runner.value
    }

    @Test("uring refuses to start when io_uring cannot be set up", .timeLimit(.minutes(1)))
    func forcedUringFails() async throws {
        var configuration = ReactorConfiguration()
        configuration.ioBackend = .uring
        configuration.loopCount = 1
        configuration.simulateUringFailure = true
        configuration.log = { _ in }
        await #expect(throws: IOReactorError(.ioUringUnavailable, reason: "any")) {
            _ = try await ReactorServer(configuration: configuration)
        }
    }

    @Test("the command-line spellings parse")
    func parsing() {
        #expect(IOBackendKind("uring") == .uring)
        #expect(IOBackendKind("epoll") == .epoll)
        #expect(IOBackendKind("automatic") == .automatic)
        #expect(IOBackendKind("kqueue") == nil)
    }
}
