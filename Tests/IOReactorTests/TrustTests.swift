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
import Synchronization
import Testing

/// The outcome of one client's attempt: handshake, one request, its echo.
enum Attempt: Equatable {
    case served
    case refused(String)
}

/// Connects with `identity`, sends a request and expects its echo; a failure anywhere (TLS 1.3
/// reports a refused client certificate at the first read) counts as refused.
func attempt(port: Int, identity: TestPKI.Identity?, version: Int32? = nil) async throws -> Attempt {
    let pki = TestPKI.shared
    return try await onThread {
        do {
            let context = try ClientTLSContext(identity: identity, caFile: pki.caCertificate, version: version)
            let client = try BlockingClient(port: port)
            try client.startTLS(context)
            try client.write(Array("ping".utf8))
            let reply = try client.read(count: 4)
            client.shutdown()
            return reply == Array("ping".utf8) ? .served : .refused("short reply \(reply)")
        } catch {
            return .refused("\(error)")
        }
    }
}

/// Records the fingerprints the handler saw, then echoes.
final class SeenPeers: Sendable {
    let fingerprints = Mutex<[CertificateFingerprint]>([])

    var handler: @Sendable (sending ReactorConnection) async throws -> Void {
        { connection in
            if let peer = connection.peerCertificate { self.fingerprints.withLock { $0.append(peer.fingerprint) } }
            try await TestHandlers.echo(connection)
        }
    }

    var count: Int { self.fingerprints.withLock { $0.count } }
}

@Suite("Client certificate trust")
struct TrustTests {
    @Test(
        "a client from the trusted CA is served and its certificate is exposed",
        .timeLimit(.minutes(1)),
        arguments: allBackends
    )
    func trustedClient(backend: IOBackendKind) async throws {
        let pki = TestPKI.shared
        let seen = SeenPeers()
        let expected = try TestPKI.fingerprint(ofCertificate: pki.client.certificate)
        try await withServer(backend: backend, tls: try makeServerTLS(), handler: seen.handler) {
            (server: ReactorServer) async throws in
            #expect(try await attempt(port: server.port, identity: pki.client) == .served)
        }
        #expect(seen.fingerprints.withLock { $0 } == [expected])
    }

    @Test(
        "refused in the handshake: unknown CA, no clientAuth EKU, no certificate",
        .timeLimit(.minutes(1)),
        arguments: allBackends
    )
    func refusedClients(backend: IOBackendKind) async throws {
        let pki = TestPKI.shared
        let seen = SeenPeers()
        try await withServer(backend: backend, tls: try makeServerTLS(), handler: seen.handler) {
            (server: ReactorServer) async throws in
            for identity in [pki.rogueClient, pki.clientWithoutClientAuth, nil] {
                for version in [TLS1_2_VERSION, TLS1_3_VERSION] {
                    let result = try await attempt(port: server.port, identity: identity, version: version)
                    #expect(result != .served, "\(identity?.certificate ?? "no certificate") TLS \(version)")
                    // The alert was flushed before the close, so the client knows why.
                    if case .refused(let reason) = result {
                        #expect(reason.contains("alert"), "\(reason)")
                        if identity?.certificate == pki.rogueClient.certificate {
                            #expect(reason.contains("unknown ca"))
                        }
                    }
                }
            }
            // The server still serves good clients afterwards.
            #expect(try await attempt(port: server.port, identity: pki.client) == .served)
        }
        #expect(seen.count == 1)
    }

    @Test(
        "a pinned self-signed client is served until its pin is removed",
        .timeLimit(.minutes(1)),
        arguments: allBackends
    )
    func pinnedClient(backend: IOBackendKind) async throws {
        let pki = TestPKI.shared
        let pin = try TestPKI.fingerprint(ofCertificate: pki.selfSignedClient.certificate)
        let other = try TestPKI.fingerprint(ofCertificate: pki.secondSelfSignedClient.certificate)
        let tls = try makeServerTLS(pins: [pin, other])
        try await withServer(backend: backend, tls: tls) { (server: ReactorServer) async throws in
            #expect(try await attempt(port: server.port, identity: pki.selfSignedClient) == .served)
            #expect(try await attempt(port: server.port, identity: pki.secondSelfSignedClient) == .served)
            try tls.setPinnedFingerprints([other])
            #expect(try await attempt(port: server.port, identity: pki.selfSignedClient) != .served)
            #expect(try await attempt(port: server.port, identity: pki.secondSelfSignedClient) == .served)
            #expect(try await attempt(port: server.port, identity: pki.client) == .served)
        }
    }

    @Test("the CA bundle can be swapped at run time", .timeLimit(.minutes(1)))
    func swapCABundle() async throws {
        let pki = TestPKI.shared
        let tls = try makeServerTLS()
        try await withServer(backend: .automatic, tls: tls) { (server: ReactorServer) async throws in
            #expect(try await attempt(port: server.port, identity: pki.client) == .served)
            try tls.setTrustPolicy(TrustPolicy(caCertificates: [.file(pki.directory + "/rogue-ca.pem")]))
            #expect(try await attempt(port: server.port, identity: pki.client) != .served)
            #expect(try await attempt(port: server.port, identity: pki.rogueClient) == .served)
        }
    }

    @Test("fingerprints parse openssl's colon-separated hex")
    func fingerprintParsing() throws {
        let text = "16:C8:2C:6C:12:4D:3D:AA:28:04:6E:3E:7A:E7:C2:B5:30:01:76:23:49:79:EC:6E:3B:81:62:6D:0F:87:09:A3"
        let fingerprint = try #require(CertificateFingerprint(hex: text))
        #expect(fingerprint.hex == text.replacingOccurrences(of: ":", with: "").lowercased())
        #expect(CertificateFingerprint(hex: "abc") == nil)
    }

    @Test("PEM strings and DER load like files")
    func inMemorySources() throws {
        let pki = TestPKI.shared
        let certificate = try String(contentsOfFile: pki.server.certificate, encoding: .utf8)
        let key = try String(contentsOfFile: pki.server.key, encoding: .utf8)
        let ca = try String(contentsOfFile: pki.caCertificate, encoding: .utf8)
        let configuration = TLSServerConfiguration(
            certificateChain: .pem(certificate),
            privateKey: .pem(key),
            trust: TrustPolicy(caCertificates: [.pem(ca)])
        )
        _ = try TLSServerContext(configuration: configuration)
        let derPath = pki.directory + "/server.der"
        try TestPKI.openssl(["x509", "-in", pki.server.certificate, "-outform", "DER", "-out", derPath])
        let keyPath = pki.directory + "/server-key.der"
        try TestPKI.openssl(["pkey", "-in", pki.server.key, "-outform", "DER", "-out", keyPath])
        let der = try TLSServerConfiguration(
            certificateChain: .der(Array(Data(contentsOf: URL(fileURLWithPath: derPath)))),
            privateKey: .der(Array(Data(contentsOf: URL(fileURLWithPath: keyPath)))),
            trust: TrustPolicy(caCertificates: [.der(Array(Data(contentsOf: URL(fileURLWithPath: derPath))))])
        )
        _ = try TLSServerContext(configuration: der)
        let mismatched = TLSServerConfiguration(
            certificateChain: .pem(certificate),
            privateKey: .file(pki.client.key),
            trust: TrustPolicy()
        )
        #expect(throws: IOReactorError(.tlsConfiguration, reason: "any")) {
            try TLSServerContext(configuration: mismatched)
        }
    }
}
