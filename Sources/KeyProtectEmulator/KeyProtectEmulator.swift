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

import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

/// `KeyProtectEmulator`: an emulator of IBM Key Protect's REST API and IAM token endpoint, with
/// injectable faults, for the Key Protect client's tests and the boot-storm benchmark.
@main
struct KeyProtectEmulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "KeyProtectEmulator",
        abstract: "Emulates IBM Key Protect (IAM tokens, root keys, wrap/unwrap/rewrap/rotate) with injectable faults.",
        discussion: """
            Prints one line, "KeyProtectEmulator listening on http://HOST:PORT", once it accepts \
            connections. SIGTERM or SIGINT stop it. Admin endpoints (no authentication): \
            GET/PUT /admin/faults, GET /admin/stats, POST /admin/stats/reset.
            """
    )

    @Option(help: "Address to listen on, HOST:PORT (port 0: any free port).")
    var listen = "127.0.0.1:0"

    @Option(help: "JSON file holding the keys (with their material); loaded at start, replaced after each change.")
    var stateFile: String?

    @Option(help: "The instance GUID expected in the bluemix-instance header.")
    var instanceId = "3b1f7c2e-9d4a-4f6b-8e21-5c0d7a9e4f10"

    @Option(name: .customLong("api-key"), help: "An accepted IAM API key (repeatable; default: any non-empty key).")
    var apiKeys: [String] = []

    @Option(help: "IAM token lifetime in seconds.")
    var tokenTtl = 3600

    @Option(help: "Milliseconds added to every /api/v2 call.")
    var latencyMs = 0

    @Option(help: "Up to this many random milliseconds more.")
    var jitterMs = 0

    @Option(help: "wrap/unwrap/rewrap calls per second (token bucket, burst of the same size); beyond: 429.")
    var rateLimit: Int?

    @Option(help: "The Retry-After seconds of a 429.")
    var retryAfter = 1

    @Option(help: "Fraction (0...1) of /api/v2 calls answered 503.")
    var errorRate = 0.0

    @Flag(help: "Answer every /api/v2 and IAM call with 503.")
    var outage = false

    @Option(help: "Seconds that must pass between two rotations of a key (default: no limit).")
    var minRotationInterval: Double?

    @Option(help: "PEM certificate chain: serve HTTPS.")
    var tlsCert: String?

    @Option(help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(
        help: """
            A second, plain-HTTP listener for the admin endpoints only, HOST:PORT (useful with TLS); \
            its URL goes to standard error as "KeyProtectEmulator admin listening on URL".
            """
    )
    var adminListen: String?

    @Option(help: "Log level of the HTTP server (on standard error).")
    var logLevel = "warning"

    func validate() throws {
        guard (0...1).contains(self.errorRate) else { throw ValidationError("--error-rate must be within 0...1") }
        if let rateLimit, rateLimit < 1 { throw ValidationError("--rate-limit must be at least 1") }
        guard (self.tlsCert == nil) == (self.tlsKey == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        guard self.tokenTtl > 0 else { throw ValidationError("--token-ttl must be positive") }
        guard self.latencyMs >= 0, self.jitterMs >= 0, self.retryAfter >= 0 else {
            throw ValidationError("--latency-ms, --jitter-ms and --retry-after must not be negative")
        }
        _ = try Self.address(self.listen)
        if let adminListen { _ = try Self.address(adminListen) }
    }

    func run() async throws {
        var logger = Logger(label: "KeyProtectEmulator") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: self.logLevel) ?? .warning

        let stateFile = self.stateFile.map { StateFile(path: $0) }
        let persisted = try await stateFile?.load()
        let emulator = Emulator(
            configuration: .init(
                instanceID: self.instanceId,
                apiKeys: Set(self.apiKeys),
                tokenTTL: self.tokenTtl,
                minimumRotationInterval: self.minRotationInterval
            ),
            faults: Faults(
                latencyMs: self.latencyMs,
                jitterMs: self.jitterMs,
                rateLimit: self.rateLimit,
                retryAfterSeconds: self.retryAfter,
                errorRate: self.errorRate,
                outage: self.outage
            ),
            stateFile: stateFile,
            persisted: persisted
        )
        let routes = Routes(emulator: emulator)

        let router = Router(context: BasicRequestContext.self)
        routes.register(on: router)
        var server: HTTPServerBuilder = .http1()
        if let tlsCert, let tlsKey {
            server = try .tls(.http1(), tlsConfiguration: try await Self.tlsConfiguration(tlsCert, tlsKey))
        }
        let scheme = self.tlsCert == nil ? "http" : "https"
        let (host, port) = try Self.address(self.listen)
        let app = Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: nil, backlog: 1024),
            onServerRunning: { channel in
                Self.announce(
                    "KeyProtectEmulator listening on \(scheme)://\(host):\(channel.localAddress?.port ?? port)"
                )
            },
            logger: logger
        )
        guard let adminListen else {
            try await app.runService()
            return
        }
        let adminRouter = Router(context: BasicRequestContext.self)
        routes.registerAdmin(on: adminRouter)
        let (adminHost, adminPort) = try Self.address(adminListen)
        let admin = Application(
            router: adminRouter,
            configuration: .init(address: .hostname(adminHost, port: adminPort), serverName: nil),
            onServerRunning: { channel in
                Self.announce(
                    "KeyProtectEmulator admin listening on http://\(adminHost):\(channel.localAddress?.port ?? adminPort)",
                    toStandardError: true
                )
            },
            logger: logger
        )
        // Each application stops on SIGTERM/SIGINT by itself.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await admin.runService() }
            group.addTask { try await app.runService() }
            try await group.waitForAll()
        }
    }

    /// Writes `line` and flushes it (the launcher reads it from a file).
    private static func announce(_ line: String, toStandardError: Bool = false) {
        let handle = toStandardError ? FileHandle.standardError : FileHandle.standardOutput
        handle.write(Data((line + "\n").utf8))
    }

    static func address(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port), colon != text.startIndex
        else { throw ValidationError("expected HOST:PORT, got \(text)") }
        return (String(text[..<colon]), port)
    }

    /// Reads the certificate chain and key off the cooperative pool.
    private static func tlsConfiguration(_ certificate: String, _ key: String) async throws -> TLSConfiguration {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue(label: "KeyProtectEmulator.tls").async {
                continuation.resume(
                    with: Result {
                        let chain = try NIOSSLCertificate.fromPEMFile(certificate)
                        let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
                        return TLSConfiguration.makeServerConfiguration(
                            certificateChain: chain.map { .certificate($0) },
                            privateKey: .privateKey(privateKey)
                        )
                    }
                )
            }
        }
    }
}
