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
import Testing

@Suite("Echo over loopback")
struct EchoTests {
    @Test("plain TCP echo", .timeLimit(.minutes(1)), arguments: allBackends)
    func plainEcho(backend: IOBackendKind) async throws {
        try await withServer(backend: backend, tls: nil) { server in
            let port = server.port
            let echoed = try await onThread {
                let client = try BlockingClient(port: port)
                let message = Array("hello, reactor".utf8)
                try client.write(message)
                return try client.read(count: message.count)
            }
            #expect(echoed == Array("hello, reactor".utf8))
        }
    }

    @Test("mutual TLS echo", .timeLimit(.minutes(1)), arguments: allBackends)
    func tlsEcho(backend: IOBackendKind) async throws {
        let pki = TestPKI.shared
        try await withServer(backend: backend, tls: try makeServerTLS()) { server in
            let port = server.port
            let echoed = try await onThread {
                let context = try ClientTLSContext(identity: pki.client, caFile: pki.caCertificate)
                let client = try BlockingClient(port: port)
                try client.startTLS(context)
                let message = [UInt8](repeating: 0x42, count: 30_000)
                try client.write(message)
                let reply = try client.read(count: message.count)
                client.shutdown()
                return reply == message
            }
            #expect(echoed)
        }
    }
}
