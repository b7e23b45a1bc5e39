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

import CKeystorm
import Foundation
import IOReactor
import Testing

/// Echoes the first chunk, then returns, so the server sends close_notify and `s_client -ign_eof` exits.
let echoOnce: @Sendable (sending ReactorConnection) async throws -> Void = { connection in
    if let bytes = try await connection.receive() { try await connection.write(bytes) }
}

/// Runs `openssl s_client` against the server with the test client certificate.
func sClient(port: Int, version: String, extra: [String] = [], message: String) async throws -> String {
    let pki = TestPKI.shared
    let arguments =
        [
            "s_client", "-connect", "127.0.0.1:\(port)", version, "-ign_eof",
            "-cert", pki.client.certificate, "-key", pki.client.key, "-CAfile", pki.caCertificate,
            "-verify_return_error",
        ] + extra
    let input = Data((message + "\n").utf8)
    return try await onThread {
        try ProcessRunner.run("/usr/bin/openssl", arguments, input: input, timeoutSeconds: 30).output
    }
}

@Suite("Interoperability with openssl s_client")
struct OpenSSLInteropTests {
    @Test(
        "s_client echoes over TLS 1.2 and TLS 1.3",
        .timeLimit(.minutes(1)),
        arguments: allBackends,
        [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")]
    )
    func echo(backend: IOBackendKind, version: (flag: String, name: String)) async throws {
        try await withServer(backend: backend, tls: try makeServerTLS(), handler: echoOnce) {
            (server: ReactorServer) async throws in
            let output = try await sClient(port: server.port, version: version.flag, message: "keystorm-interop")
            #expect(output.contains("Protocol  : \(version.name)"), "\(output)")
            #expect(output.contains("keystorm-interop"), "\(output)")
            #expect(output.contains("Verify return code: 0 (ok)"), "\(output)")
        }
    }

    @Test(
        "a session saved by s_client is resumed",
        .timeLimit(.minutes(1)),
        arguments: allBackends,
        ["-tls1_2", "-tls1_3"]
    )
    func resumption(backend: IOBackendKind, version: String) async throws {
        let sessionFile =
            TestPKI.shared.directory + "/session-\(backend)\(version)-\(UInt32.random(in: 0...UInt32.max)).pem"
        try await withServer(backend: backend, tls: try makeServerTLS(tickets: 1), handler: echoOnce) {
            (server: ReactorServer) async throws in
            let first = try await sClient(
                port: server.port,
                version: version,
                extra: ["-sess_out", sessionFile],
                message: "first"
            )
            #expect(first.contains("New, TLSv1"), "\(first)")
            #expect(first.contains("first"), "\(first)")
            let second = try await sClient(
                port: server.port,
                version: version,
                extra: ["-sess_in", sessionFile],
                message: "second"
            )
            #expect(second.contains("Reused, TLSv1"), "\(second)")
            #expect(second.contains("second"), "\(second)")
        }
    }

    @Test("the server ends a connection with close_notify", .timeLimit(.minutes(1)), arguments: allBackends)
    func closeNotify(backend: IOBackendKind) async throws {
        let pki = TestPKI.shared
        try await withServer(backend: backend, tls: try makeServerTLS(), handler: echoOnce) {
            (server: ReactorServer) async throws in
            let port = server.port
            let context = try ClientTLSContext(identity: pki.client, caFile: pki.caCertificate)
            // readToEnd throws unless the stream ends with close_notify (SSL_ERROR_ZERO_RETURN).
            let tail = try await onThread { () throws -> [UInt8] in
                let client = try BlockingClient(port: port)
                try client.startTLS(context)
                try client.write(Array("bye".utf8))
                return try client.readToEnd()
            }
            #expect(tail == Array("bye".utf8))
        }
    }

    @Test("the legacy vCenter CBC suites are refused by default and served when opted in", .timeLimit(.minutes(1)))
    func legacyCiphers() async throws {
        let pki = TestPKI.shared
        let rsa = try TestPKI.rsaServer()
        var configuration = TLSServerConfiguration(
            certificateChain: .file(rsa.certificate),
            privateKey: .file(rsa.key),
            trust: TrustPolicy(caCertificates: [.file(pki.caCertificate)])
        )
        let modern = try TLSServerContext(configuration: configuration)
        configuration.tls12Ciphers += ":" + TLSServerConfiguration.legacyVCenterTLS12Ciphers
        let legacy = try TLSServerContext(configuration: configuration)
        for (tls, expected) in [(modern, false), (legacy, true)] {
            try await withServer(backend: .automatic, tls: tls, handler: echoOnce) {
                (server: ReactorServer) async throws in
                let output = try await sClient(
                    port: server.port,
                    version: "-tls1_2",
                    extra: ["-cipher", "AES128-SHA256"],
                    message: "legacy-client"
                )
                #expect(output.contains("legacy-client") == expected, "\(output)")
                if expected { #expect(output.contains("AES128-SHA256"), "\(output)") }
            }
        }
    }

    @Test("a resumed session is refused once its certificate's pin is removed", .timeLimit(.minutes(1)))
    func resumptionRechecksTrust() async throws {
        let pki = TestPKI.shared
        let pin = try TestPKI.fingerprint(ofCertificate: pki.selfSignedClient.certificate)
        let tls = try makeServerTLS(pins: [pin], tickets: 1)
        let context = try ClientTLSContext(identity: pki.selfSignedClient, caFile: pki.caCertificate, version: nil)
        try await withServer(backend: .automatic, tls: tls) { (server: ReactorServer) async throws in
            let port = server.port
            let session = try await onThread { () throws -> SendableSession in
                let client = try BlockingClient(port: port)
                try client.startTLS(context)
                try client.write(Array("one".utf8))
                _ = try client.read(count: 3)
                client.shutdown()
                return SendableSession(pointer: client.session())
            }
            let resumedWhilePinned = try await onThread { () throws -> Bool in
                let client = try BlockingClient(port: port)
                try client.startTLS(context, session: session.pointer)
                try client.write(Array("one".utf8))
                _ = try client.read(count: 3)
                client.shutdown()
                return client.sessionReused
            }
            #expect(resumedWhilePinned)
            try tls.setPinnedFingerprints([])
            let outcome = try await onThread { () throws -> Bool in
                defer { session.free() }
                let client = try BlockingClient(port: port)
                do {
                    try client.startTLS(context, session: session.pointer)
                    try client.write(Array("two".utf8))
                    return try client.read(count: 3) == Array("two".utf8)
                } catch {
                    return false
                }
            }
            #expect(outcome == false)
        }
    }
}

/// An `SSL_SESSION*` handed between test threads.
struct SendableSession: @unchecked Sendable {
    var pointer: OpaquePointer?
    func free() { if let pointer { SSL_SESSION_free(pointer) } }
}
