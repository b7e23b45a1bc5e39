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

import IOReactor
import Synchronization
import Testing

/// Both I/O backends, for parameterized tests.
let allBackends: [IOBackendKind] = [.uring, .epoll]

/// Handlers used by the tests.
enum TestHandlers {
    /// Echoes every chunk until end of stream.
    static let echo: @Sendable (sending ReactorConnection) async throws -> Void = { connection in
        while let bytes = try await connection.receive() {
            try await connection.write(bytes)
        }
    }
}

/// Starts a server, runs `body` with it, then shuts it down and waits for `run` to return.
func withServer<T: Sendable>(
    backend: IOBackendKind,
    tls: TLSServerContext?,
    configure: (inout ReactorConfiguration) -> Void = { _ in },
    handler: @escaping @Sendable (sending ReactorConnection) async throws -> Void = TestHandlers.echo,
    _ body: (ReactorServer) async throws -> T
) async throws -> T {
    var configuration = ReactorConfiguration()
    configuration.ioBackend = backend
    configuration.loopCount = 2
    configuration.tls = tls
    configuration.log = { _ in }
    configure(&configuration)
    let server = try await ReactorServer(configuration: configuration)
    if backend != .automatic { #expect(server.backend == backend) }
    let runner = Task { try await server.run(handler: handler) }
    do {
        let result = try await body(server)
        server.shutdown(gracePeriod: .seconds(5))
        try await runner.value
        return result
    } catch {
        server.shutdown(gracePeriod: .zero)
        _ = try? await runner.value
        throw error
    }
}

/// A TLS context for the test server.
func makeServerTLS(pins: Set<CertificateFingerprint> = [], tickets: Int = 1) throws -> TLSServerContext {
    var configuration = TestPKI.shared.serverConfiguration(pins: pins)
    configuration.sessionTickets = tickets
    return try TLSServerContext(configuration: configuration)
}
