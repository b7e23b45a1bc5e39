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
import Logging
import ServiceLifecycle

/// `keystorm serve`: the KMIP server on the embedded defaults, or as configured.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the KMIP server (mutual TLS, port 5696).",
        discussion: """
            Every option has a configuration-file key (the option's name, e.g. listen, tls.cert)
            and an environment variable (KEYSTORM_ and the key in capitals, e.g. KEYSTORM_LISTEN).
            A flag beats the environment, which beats the file.
            """
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Address for KMIP (key listen). Default: 127.0.0.1:5696") var listen: String?
    @Option(name: .customLong("tls-cert"), help: "Server certificate chain, PEM (key tls.cert). Default: generated in the data dir.") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "Server private key, PEM (key tls.key).") var tlsKey: String?
    @Option(name: .customLong("client-ca"), help: "A CA bundle (PEM) whose client certificates act for the default tenant (key client-ca).") var clientCA: String?
    @Option(help: "Where keys are stored: sqlite, or postgres://USER@HOST:PORT/DATABASE shared by several nodes (key store). Default: sqlite in the data dir.") var store: String?
    @Option(name: .customLong("root-keys"), help: "The root-key service: local, keyprotect or pkcs11 (key root-keys). Default: local.") var rootKeys: String?
    @Option(name: .customLong("io-backend"), help: "uring, epoll or automatic (key io-backend). Default: automatic.") var ioBackend: String?
    @Option(help: "Event loops (key loops). Default: one per core.") var loops: Int?
    @Option(name: .customLong("max-connections"), help: "Connection limit (key max-connections). Default: 10000.") var maxConnections: Int?
    @Option(name: .customLong("handshake-timeout"), help: "Seconds a TLS handshake may take (key handshake-timeout). Default: 10.") var handshakeTimeout: Int?
    @Option(
        name: .customLong("max-handshaking-connections"),
        help: "Connections in their TLS handshake; when full, new ones evict silent ones first. Default: 1000."
    )
    var maxHandshakingConnections: Int?
    @Option(
        name: .customLong("max-handshakes-per-source"),
        help: "Handshakes at once from one IPv4 address or IPv6 /64. Default: 100."
    )
    var maxHandshakesPerSource: Int?
    @Option(
        name: .customLong("handshake-timeout-under-pressure"),
        help: "Seconds a TLS handshake may take once the handshake budget is half full. Default: 2."
    )
    var handshakeTimeoutUnderPressure: Int?
    @Option(name: .customLong("idle-timeout"), help: "Seconds a connection may idle (key idle-timeout). Default: 120.") var idleTimeout: Int?
    @Option(name: .customLong("session-tickets"), help: "TLS session tickets per full handshake (key tls.session-tickets). Default: 1.") var sessionTickets: Int?
    @Flag(name: .customLong("legacy-tls12-ciphers"), help: "Also offer AES128/256-SHA256 with RSA key exchange for old vCenters (key tls.legacy-ciphers).")
    var legacyCiphers: Bool = false
    @Option(name: .customLong("refresh-interval"), help: "Seconds between reloads of client rules and root keys (key refresh-interval). Default: 1.")
    var refreshInterval: Int?
    @Option(name: .customLong("root-keys-poll-interval"), help: "How often every tenant's root key is checked in its service, e.g. 30s (key root-keys.poll-interval). Default: 30s; Local also every refresh.")
    var pollInterval: String?
    @Option(
        name: .customLong("storage-reserve"),
        help: "Free bytes kept on the data disk for reads and the audit log; below it new keys and attribute changes are refused (key storage.reserve-bytes). Default: 67108864 (64 MiB); 0 turns it off."
    )
    var storageReserve: Int?
    @Option(name: .customLong("locate-max-items"), help: "The most identifiers one Locate returns, whatever Maximum Items asks for (key locate.max-items). Default: 1000.")
    var locateMaxItems: Int?
    @Option(name: .customLong("cache-prewarm"), help: "Unwrap each tenant's N most recent keys into the cache at start (key cache.prewarm). Default: 0.")
    var cachePrewarm: Int?

    @Option(name: .customLong("admin-listen"), help: "Address for the admin API and /metrics (key admin-listen), or off. Default: 127.0.0.1:9696")
    var adminListen: String?

    @Option(name: .customLong("log-format"), help: "json or text (key log.format). Default: json.")
    var logFormat: String?
    @Option(
        name: .customLong("log-level"),
        help: "trace, debug, info, notice, warning, error or critical (key log.level). Default: info."
    )
    var logLevel: String?
    @Option(
        name: .customLong("shutdown-grace-period"),
        help: "How long in-flight operations may take after SIGTERM or SIGINT, e.g. 10s (key shutdown.grace-period). Default: 10s."
    )
    var shutdownGracePeriod: String?
    /// Not a setting: without it `--port` was an unknown option and the parser suggested `--store`;
    /// with it, `validate()` says to use `--listen HOST:PORT` (exit 64, bad usage).
    @Option(name: .customLong("port"), help: .hidden) var port: String?

    func validate() throws {
        if let port = self.port {
            throw ValidationError("there is no --port: use --listen HOST:PORT (e.g. --listen 127.0.0.1:\(port))")
        }
    }

    /// Runs the server until SIGTERM or SIGINT (exit 0 once drained) or until a part of it fails
    /// (logged as one line naming the part and the cause; exit 1).
    func run() async throws {
        do {
            try await self.serve()
        } catch let failure as ServeServiceFailure {
            Log.logger.error(
                "keystorm serve stopped: \(failure)",
                metadata: ["service": "\(failure.service)"]
            )
            throw ExitCode.failure
        } catch {
            Log.error("keystorm serve stopped: \(ServeErrorText.describe(error))")
            throw ExitCode.failure
        }
    }

    private func serve() async throws {
        // Before anything makes a metric: the libraries take the factory when they are created.
        let metricsRegistry = KeystormMetrics.bootstrap()
        let resolver = try self.common.resolver()
        let settings = try ServeSettings(self, resolver)
        var directory = self.common.dataDirectory(resolver)
        directory.storeFlag = self.store
        let data = try await ServeDataDirectory.prepare(directory, settings: settings, rootKeysFlag: self.rootKeys)
        let composition = try await ServeComposition(data, settings: settings, resolver: resolver)
        let admin = try AdminServer.make(
            settings: resolver,
            flag: self.adminListen,
            directory: directory,
            operations: composition.adminOperations(),
            metrics: metricsRegistry,
            beforeScrape: { composition.collectMetrics() }
        )
        try await composition.serviceGroup(admin: admin).run()
        Log.notice("stopped")
    }
}

extension ListenAddress {
    init(host: String, port: Int) {
        // Safe: a host from a parsed address and a bound port.
        try! self.init(parsing: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)", setting: "listen")
    }
}
