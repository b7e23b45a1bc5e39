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
import Dispatch
import Foundation
import IOReactor
import KMIPServer
import KeyStore
import KeystormControl
import KeystormPKI
import RootKeys

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
    @Option(help: "Where keys are stored: sqlite (key store). Default: sqlite in the data dir.") var store: String?
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

    func run() async throws {
        // Before anything makes a metric: the libraries take the factory when they are created.
        let metricsRegistry = KeystormMetrics.bootstrap()
        let settings = try self.common.resolver()
        let directory = self.common.dataDirectory(settings)
        let listen = try ListenAddress(parsing: settings.string("listen", flag: self.listen, default: "127.0.0.1:5696"), setting: "listen")
        let storeKind = settings.string("store", flag: self.store, default: "sqlite")
        guard storeKind == "sqlite" else { throw SettingsError("store '\(storeKind)' is not available; this build supports: sqlite") }
        let backendText = settings.string("io-backend", flag: self.ioBackend, default: "automatic")
        guard let backend = IOBackendKind(backendText) else { throw SettingsError("io-backend must be uring, epoll or automatic, not '\(backendText)'") }

        // First start: data directory, PKI, store, root keys, default tenant and a test client.
        let firstStart = !directory.exists
        try directory.create()
        let generatedTLS = try directory.ensurePKI(hostnames: Self.hostnames(listen))
        let (store, provider) = try await directory.openProvider(rootKeysFlag: self.rootKeys)
        let rootKeys: any RootKeyService = MeteredRootKeyService(provider.service)
        let accessConfiguration = try RootKeyServiceFactory.accessConfiguration(settings, defaults: provider.accessDefaults)
        let admin = ControlPlane(store: store, rootKeys: rootKeys, directory: directory.layout)
        try await admin.requireProvider()
        var testClient: (certificate: String, key: String)?
        if try await store.tenant(id: "default") == nil {
            _ = try await admin.createTenant(id: "default", displayName: "Default tenant")
            let issued = try await admin.issue(name: "keystorm-test-client", tenant: "default")
            testClient = (issued.certificatePath, issued.keyPath)
        }
        if let bundle = settings.string("client-ca", flag: self.clientCA) {
            let known = Set(try await store.clients(tenantID: "default").map(\.fingerprint))
            let pem = try String(contentsOfFile: bundle, encoding: .utf8)
            let fresh = try PEMCertificate.parseBundle(pem).filter { !known.contains($0.sha256Fingerprint) }
            if !fresh.isEmpty { _ = try await admin.trustCA(pem: PEMCertificate.bundle(fresh), tenant: "default", label: "client-ca \(bundle)") }
        }

        // TLS and the trust policy from the client rules.
        let certificatePath = settings.string("tls.cert", flag: self.tlsCert, default: directory.serverCertificate)
        let keyPath = settings.string("tls.key", flag: self.tlsKey, default: directory.serverKey)
        let trust = TrustState(store: store)
        try await trust.load()
        var tls = TLSServerConfiguration(certificateChain: .file(certificatePath), privateKey: .file(keyPath), trust: trust.policy)
        tls.sessionTickets = try settings.integer("tls.session-tickets", flag: self.sessionTickets, default: 1)
        if try settings.boolean("tls.legacy-ciphers", flag: self.legacyCiphers ? true : nil, default: false) {
            tls.tls12Ciphers = TLSServerConfiguration.modernTLS12Ciphers + ":" + TLSServerConfiguration.legacyVCenterTLS12Ciphers
        }
        let tlsContext = try TLSServerContext(configuration: tls)
        trust.attach(tlsContext)

        var reactor = ReactorConfiguration()
        reactor.host = listen.host
        reactor.port = listen.port
        reactor.ioBackend = backend
        reactor.tls = tlsContext
        reactor.loopCount = try settings.integer("loops", flag: self.loops, default: ReactorConfiguration.onlineProcessors)
        reactor.maxConnections = try settings.integer("max-connections", flag: self.maxConnections, default: 10_000)
        reactor.handshakeTimeout = .seconds(try settings.integer("handshake-timeout", flag: self.handshakeTimeout, default: 10))
        reactor.idleTimeout = .seconds(try settings.integer("idle-timeout", flag: self.idleTimeout, default: 120))
        reactor.maxHandshakingConnections = try Self.positive(
            settings.integer("max-handshaking-connections", flag: self.maxHandshakingConnections, default: 1_000),
            key: "max-handshaking-connections"
        )
        reactor.maxHandshakesPerSource = try Self.positive(
            settings.integer("max-handshakes-per-source", flag: self.maxHandshakesPerSource, default: 100),
            key: "max-handshakes-per-source"
        )
        reactor.handshakeTimeoutUnderPressure = .seconds(
            try Self.positive(
                settings.integer(
                    "handshake-timeout-under-pressure",
                    flag: self.handshakeTimeoutUnderPressure,
                    default: 2
                ),
                key: "handshake-timeout-under-pressure"
            )
        )
        reactor.log = { message in Log.info(message) }
        let server = try await ReactorServer(configuration: reactor)

        // Key cache and unwrap batcher: the provider's defaults, then the cache.* and unwrap.* settings.
        let keyAccess = KeyAccess(service: rootKeys, configuration: accessConfiguration)
        let audit = try AuditLogFile(path: directory.auditPath, log: { Log.error($0) })
        if audit.repairedBytes > 0 {
            Log.info("audit log: removed a torn last line of \(audit.repairedBytes) bytes left by an interrupted write")
        }
        let reserveBytes = try settings.integer("storage.reserve-bytes", flag: self.storageReserve, default: 64 << 20)
        guard reserveBytes >= 0 else { throw SettingsError("'storage.reserve-bytes' must be 0 or more, not \(reserveBytes)") }
        let reserve = StorageReserve(directory: directory.path, reserveBytes: Int64(reserveBytes), log: { Log.error($0) })
        _ = reserve.check()
        var kmip = KMIPServerConfiguration()
        kmip.maxLocateItems = try settings.integer("locate.max-items", flag: self.locateMaxItems, default: kmip.maxLocateItems)
        guard kmip.maxLocateItems >= 1 else { throw SettingsError("'locate.max-items' must be at least 1") }
        let core = KMIPServerCore(
            store: store,
            rootKeys: rootKeys,
            audit: audit,
            configuration: kmip,
            clock: { Int64(Date().timeIntervalSince1970) },
            makeIdentifier: { UUID().uuidString.lowercased() },
            keyAccess: keyAccess,
            storageReserve: reserve
        )
        let handler = KMIPConnectionHandler(executor: BatchExecutor(core: core))

        // Root keys deleted or disabled in their service stop serving keys (cached ones too); a
        // rotation re-wraps the tenant's keys in the background; prewarm requests fill the cache.
        let monitor = RootKeyMonitor(store: store, service: rootKeys, keyAccess: keyAccess, log: { Log.info($0) })
        if let known = provider.knownRootKeys { monitor.observe(known()) }
        await monitor.poll()
        let pollText = settings.string("root-keys.poll-interval", flag: self.pollInterval, default: "30s")
        let pollInterval = try RootKeyServiceFactory.parseDuration(pollText, key: "root-keys.poll-interval")
        guard pollInterval > .zero else { throw SettingsError("'root-keys.poll-interval' must be longer than 0") }
        let rewrapper = RootKeyRewrapper(
            store: store,
            service: rootKeys,
            configuration: try RootKeyCommand.rewrapConfiguration(settings),
            log: { Log.info($0) }
        )
        // Open connections close when what admitted them goes: a client rule (TrustState), the
        // tenant, or the tenant's root key (deleted or disabled).
        let sweeper = TenantConnectionSweeper(connections: trust.connections, monitor: monitor)
        sweeper.sweep(try await store.tenants())
        let prewarmer = Prewarmer(store: store, keyAccess: keyAccess)
        let prewarmAtStart = try settings.integer("cache.prewarm", flag: self.cachePrewarm, default: 0)
        let serveMetrics = ServeMetrics()
        let adminServer = try AdminServer.make(
            settings: settings,
            flag: self.adminListen,
            directory: directory,
            operations: ServeAdminOperations.make(
                store: store,
                rootKeys: rootKeys,
                directory: directory,
                keyAccess: keyAccess,
                executor: BatchExecutor(core: core),
                audit: audit,
                reserve: reserve,
                clientRulesChanged: { try await trust.load() },
                clientRuleRemoved: { id in
                    do {
                        try trust.revoke(ruleID: id)
                    } catch {
                        Log.error("applying the removal of client rule \(id) failed: \(error)")
                    }
                },
                rootKeyDeleted: { tenant in
                    let closed = trust.connections.closeConnections(ofTenants: [tenant])
                    if closed > 0 {
                        Log.info("closed \(closed) connection(s) of tenant \(tenant): its root key is deleted")
                    }
                }
            ),
            metrics: metricsRegistry,
            beforeScrape: {
                serveMetrics.collect(
                    reactor: server.statistics,
                    rewrap: rewrapper.progress,
                    keyProtect: (provider.service as? KeyProtectRootKeyService)?.statistics
                )
            }
        )

        Banner.print(
            directory: directory,
            listen: ListenAddress(host: listen.host, port: server.port),
            backend: server.backend,
            firstStart: firstStart,
            generatedTLS: generatedTLS,
            testClient: testClient,
            serverCertificate: certificatePath
        )

        let signals = SignalHandler { signal in
            Log.info("received \(signal); draining connections (up to 10 s)")
            server.shutdown(gracePeriod: .seconds(10))
        }
        defer { withExtendedLifetime(signals) {} }

        let interval = try settings.integer("refresh-interval", flag: self.refreshInterval, default: 1)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(max(1, interval)))
                    if Task.isCancelled { break }
                    do {
                        try await trust.load()
                        try await provider.refresh?()
                        // A root key deleted or disabled by `keystorm root-key` stops serving cached keys too.
                        if let known = provider.knownRootKeys { monitor.observe(known()) }
                        sweeper.sweep(try await store.tenants())
                        keyAccess.cache.removeExpired()
                    } catch is CancellationError {
                        break
                    } catch {
                        Log.error("reloading client rules and root keys failed: \(error)")
                    }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: pollInterval)
                    if Task.isCancelled { break }
                    await monitor.poll()
                }
            }
            group.addTask {
                await rewrapper.run(every: .seconds(max(1, interval)))
            }
            group.addTask {
                if prewarmAtStart > 0 {
                    for tenant in (try? await store.tenants()) ?? [] {
                        await Self.prewarm(prewarmer, tenant: tenant.id, recent: prewarmAtStart)
                    }
                }
                while !Task.isCancelled {
                    for request in await directory.takePrewarmRequests() {
                        await Self.prewarm(prewarmer, tenant: request.tenant, recent: request.recent)
                    }
                    try? await Task.sleep(for: .seconds(max(1, interval)))
                }
            }
            if let adminServer { group.addTask { try await adminServer.run() } }
            group.addTask {
                try await server.run { connection in
                    guard let peer = connection.peerCertificate,
                        let identity = trust.identify(peer)
                    else {
                        serveMetrics.connectionRefusedByRules()
                        Log.info("refused \(connection.remoteAddress): no client rule admits its certificate")
                        return
                    }
                    let closer = connection.closer
                    let registration = trust.connections.register(identity) {
                        closer.close(reason: "the client's admission was revoked")
                    }
                    defer { trust.connections.unregister(registration) }
                    // A rule removed between `identify` and `register` is caught here.
                    guard trust.admits(identity) else { return }
                    serveMetrics.connectionOpened()
                    defer { serveMetrics.connectionClosed() }
                    await handler.serve(ReactorByteChannel(connection: connection), client: identity)
                }
            }
            // The server returns after a shutdown; then stop the refresher.
            try await group.next()
            group.cancelAll()
        }
        Log.info("stopped")
    }

    /// Prewarms one tenant's most recent keys and logs the outcome.
    static func prewarm(_ prewarmer: Prewarmer, tenant: String, recent: Int) async {
        do {
            let result = try await prewarmer.prewarm(tenant: tenant, recent: recent)
            Log.info("prewarmed tenant \(tenant): \(result.warmed) of \(result.considered) recent keys cached, \(result.failed) failed")
        } catch {
            Log.error("prewarming tenant \(tenant) failed: \(error)")
        }
    }

    /// `value`, or a settings error naming `key` when it is not at least 1.
    static func positive(_ value: Int, key: String) throws -> Int {
        guard value >= 1 else { throw SettingsError("'\(key)' must be at least 1, not \(value)") }
        return value
    }

    static func hostnames(_ listen: ListenAddress) -> [String] {
        var names = [ProcessInfo.processInfo.hostName]
        if !["0.0.0.0", "::", "127.0.0.1", "::1", "localhost"].contains(listen.host) { names.append(listen.host) }
        return names.filter { !$0.isEmpty }
    }
}

extension ListenAddress {
    init(host: String, port: Int) {
        // Safe: a host from a parsed address and a bound port.
        try! self.init(parsing: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)", setting: "listen")
    }
}
