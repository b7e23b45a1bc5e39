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

// The IOReactor request/response server used only by Tuning/scripts/reactor-bench.sh: every 80
// request bytes get a 120-byte response (the shape of a small KMIP Get).
//
//   reactor-bench-server --port P --cert F --key F --ca F [--loops N] [--backend uring|epoll]
//                        [--tickets N] [--bio BYTES] [--actor]
//
// Prints "READY <port>" once listening; runs until killed.

import IOReactor

#if canImport(Glibc)
import Glibc
#endif

/// The value after `name` on the command line, or `fallback`.
func argument(_ name: String, _ fallback: String? = nil) -> String {
    let arguments = CommandLine.arguments
    if let index = arguments.firstIndex(of: name), index + 1 < arguments.count { return arguments[index + 1] }
    guard let fallback else {
        print("missing \(name)")
        exit(2)
    }
    return fallback
}

let response = [UInt8](repeating: 0x52, count: 120)

/// Serves 80-byte requests on the handler's task (runs on the loop), framing them in a reused
/// buffer as a KMIP framer would.
@Sendable func serveRequests(_ connection: sending ReactorConnection) async throws {
    var buffer: [UInt8] = []
    buffer.reserveCapacity(1024)
    while try await connection.read(appendingTo: &buffer, maxBytes: 1024) > 0 {
        let frames = buffer.count / 80
        for _ in 0..<frames { try await connection.write(response) }
        buffer.removeFirst(frames * 80)
    }
}

/// The same, from an actor pinned to the connection's loop.
actor PinnedRequestServer {
    nonisolated let unownedExecutor: UnownedSerialExecutor
    private let connection: ReactorConnection

    init(_ connection: sending ReactorConnection) {
        self.unownedExecutor = connection.serialExecutor
        self.connection = connection
    }

    func serve() async throws {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1024)
        while try await self.connection.read(appendingTo: &buffer, maxBytes: 1024) > 0 {
            let frames = buffer.count / 80
            for _ in 0..<frames { try await self.connection.write(response) }
            buffer.removeFirst(frames * 80)
        }
    }
}

var tls = TLSServerConfiguration(
    certificateChain: .file(argument("--cert")),
    privateKey: .file(argument("--key")),
    trust: TrustPolicy(caCertificates: [.file(argument("--ca"))])
)
tls.sessionTickets = Int(argument("--tickets", "0")) ?? 0
tls.bioBufferSize = Int(argument("--bio", String(tls.bioBufferSize))) ?? tls.bioBufferSize
var configuration = ReactorConfiguration()
configuration.port = Int(argument("--port", "0")) ?? 0
configuration.loopCount = Int(argument("--loops", "1")) ?? 1
configuration.ioBackend = IOBackendKind(argument("--backend", "uring")) ?? .uring
configuration.maxConnections = 20_000
configuration.tls = try TLSServerContext(configuration: tls)
let useActor = CommandLine.arguments.contains("--actor")

let server = try await ReactorServer(configuration: configuration)
print("READY \(server.port)")
fflush(nil)  // all output streams: READY must reach the script at once

try await server.run { connection in
    if useActor {
        try await PinnedRequestServer(connection).serve()
    } else {
        try await serveRequests(connection)
    }
}
