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

import AdminHTTP
import Foundation
import IOReactor
import KMIPServer
import KeyStore
import KeystormControl
import KeystormPKI
import Logging
import RootKeys

/// The data directory of `keystorm serve`, opened; made (or finished) on a first start.
///
/// A first start is resumable: a marker file (`first-start.incomplete`) is written before
/// anything else and removed only once every listener is bound, so a start that fails part-way
/// (a port in use, a disk full) leaves a directory that the next start completes: certificates,
/// store, root key, the default tenant and its test client.
struct ServeDataDirectory {
    let directory: DataDirectory
    let store: any KeyStore
    let provider: RootKeyProvider
    let rootKeys: any RootKeyService
    /// Whether this start created the directory or finished a first start that failed.
    let firstStart: Bool
    /// Whether this start generated server certificates.
    let generatedTLS: Bool
    /// This process among the nodes that share a store: the host name and a random suffix.
    let nodeID = ProcessInfo.processInfo.hostName + "-" + UUID().uuidString.prefix(8).lowercased()

    var firstStartMarker: String { Self.marker(self.directory) }

    static func marker(_ directory: DataDirectory) -> String { directory.path + "/first-start.incomplete" }

    /// Opens `directory`, doing what a first start has not done yet.
    static func prepare(
        _ directory: DataDirectory,
        settings: ServeSettings,
        rootKeysFlag: String?
    ) async throws -> ServeDataDirectory {
        let fileManager = FileManager.default
        let fresh = !directory.exists
        // On a full disk no operation could be audited, so none could be served: say so at once.
        if DiskSpace.isFull(at: directory.path) {
            let free = (DiskSpace.available(at: directory.path) ?? 0) >> 10
            throw SettingsError(
                "\(directory.path): the disk holding the data directory is full (\(free) KiB free): "
                    + "no operation could be audited; free some space and start again"
            )
        }
        try directory.create()
        if fresh && !fileManager.createFile(atPath: Self.marker(directory), contents: nil) {
            let cause = ServeErrorText.errnoText(errno)
            // Made by this start and still empty of anything but directories: leave no half-made one.
            try? fileManager.removeItem(atPath: directory.path)
            throw SettingsError("\(directory.path): cannot be written: \(cause)")
        }
        let firstStart = fresh || fileManager.fileExists(atPath: Self.marker(directory))
        let generatedTLS = try directory.ensurePKI(hostnames: Self.hostnames(settings.listen))
        let (store, provider) = try await directory.openProvider(rootKeysFlag: rootKeysFlag)
        let rootKeys: any RootKeyService = MeteredRootKeyService(provider.service)
        let admin = ControlPlane(store: store, rootKeys: rootKeys, directory: directory.layout)
        try await admin.requireProvider()
        if try await store.tenant(id: "default") == nil {
            do {
                _ = try await admin.createTenant(id: "default", displayName: "Default tenant")
            } catch {
                // Another node sharing the store may have created it first.
                if try await store.tenant(id: "default") == nil { throw error }
            }
        }
        if firstStart && !fileManager.fileExists(atPath: directory.testClient.certificate) {
            _ = try await admin.issue(name: "keystorm-test-client", tenant: "default")
        }
        if let bundle = settings.clientCA {
            let known = Set(try await store.clients(tenantID: "default").map(\.fingerprint))
            let pem = try String(contentsOfFile: bundle, encoding: .utf8)
            let newCAs = try PEMCertificate.parseBundle(pem).filter { !known.contains($0.sha256Fingerprint) }
            if !newCAs.isEmpty {
                _ = try await admin.trustCA(
                    pem: PEMCertificate.bundle(newCAs),
                    tenant: "default",
                    label: "client-ca \(bundle)"
                )
            }
        }
        return ServeDataDirectory(
            directory: directory,
            store: store,
            provider: provider,
            rootKeys: rootKeys,
            firstStart: firstStart,
            generatedTLS: generatedTLS
        )
    }

    /// The first start is complete: every listener is bound.
    func completeFirstStart() {
        guard self.firstStart else { return }
        try? FileManager.default.removeItem(atPath: self.firstStartMarker)
    }

    static func hostnames(_ listen: ListenAddress) -> [String] {
        var names = [ProcessInfo.processInfo.hostName]
        if !["0.0.0.0", "::", "127.0.0.1", "::1", "localhost"].contains(listen.host) { names.append(listen.host) }
        return names.filter { !$0.isEmpty }
    }
}

/// The parts of a running `keystorm serve`, built from its settings and data directory.
struct ServeComposition: Sendable {
    let data: ServeDataDirectory
    let settings: ServeSettings
    let server: ReactorServer
    let serverCertificate: String
    let trust: TrustState
    let keyAccess: KeyAccess
    let core: KMIPServerCore
    let audit: DrainedAuditSink
    let auditFile: AuditLogFile
    let reserve: StorageReserve
    let monitor: RootKeyMonitor
    let rewrapper: RootKeyRewrapper
    let sweeper: TenantConnectionSweeper
    let metrics = ServeMetrics()

    init(_ data: ServeDataDirectory, settings: ServeSettings, resolver: SettingsResolver) async throws {
        self.data = data
        self.settings = settings
        let directory = data.directory
        // Both or neither (checked with the settings); neither: the generated pair.
        let pair = (
            certificate: settings.tlsCertificate ?? directory.serverCertificate,
            key: settings.tlsKey ?? directory.serverKey
        )
        self.serverCertificate = pair.certificate
        self.trust = TrustState(store: data.store)
        try await self.trust.load()
        var reactor = settings.reactor
        reactor.tls = try Self.tlsContext(settings, certificate: pair.certificate, key: pair.key, trust: self.trust)
        do {
            self.server = try await ReactorServer(configuration: reactor)
        } catch {
            throw ListenerError(listener: "KMIP", address: "\(settings.listen)", error: error)
        }

        // Key cache and unwrap batcher: the provider's defaults, then the cache.* and unwrap.* settings.
        let accessConfiguration = try RootKeyServiceFactory.accessConfiguration(
            resolver,
            defaults: data.provider.accessDefaults
        )
        self.keyAccess = KeyAccess(service: data.rootKeys, configuration: accessConfiguration)
        self.auditFile = try AuditLogFile(path: directory.auditPath, log: Log.sink(.error))
        if self.auditFile.repairedBytes > 0 {
            Log.info(
                "audit log: removed a torn last line of \(self.auditFile.repairedBytes) bytes left by an interrupted write"
            )
        }
        self.audit = DrainedAuditSink(self.auditFile)
        self.reserve = StorageReserve(
            directory: directory.path,
            reserveBytes: settings.reserveBytes,
            log: Log.sink(.error)
        )
        _ = self.reserve.check()
        self.core = KMIPServerCore(
            store: data.store,
            rootKeys: data.rootKeys,
            audit: self.audit,
            configuration: settings.kmip,
            clock: { Int64(Date().timeIntervalSince1970) },
            makeIdentifier: { UUID().uuidString.lowercased() },
            keyAccess: self.keyAccess,
            storageReserve: self.reserve
        )

        // Root keys deleted or disabled in their service stop serving keys (cached ones too); a
        // rotation re-wraps the tenant's keys in the background.
        self.monitor = RootKeyMonitor(
            store: data.store,
            service: data.rootKeys,
            keyAccess: self.keyAccess,
            log: Log.sink(.info)
        )
        if let known = data.provider.knownRootKeys { self.monitor.observe(known()) }
        await self.monitor.poll()
        // Nodes sharing a store take turns: one re-wraps a tenant, the others wait for its lease.
        let shared: Bool
        if case .postgres = settings.store { shared = true } else { shared = false }
        self.rewrapper = RootKeyRewrapper(
            store: data.store,
            service: data.rootKeys,
            configuration: try RootKeyCommand.rewrapConfiguration(resolver),
            lease: shared ? JobLease(store: data.store, owner: data.nodeID) : nil,
            log: Log.sink(.info)
        )
        // Open connections close when what admitted them goes: a client rule (TrustState), the
        // tenant, or the tenant's root key (deleted or disabled).
        self.sweeper = TenantConnectionSweeper(connections: self.trust.connections, monitor: self.monitor)
        self.sweeper.sweep(try await data.store.tenants())
    }

    /// The TLS context: the server's pair, and the trust policy from the client rules.
    private static func tlsContext(
        _ settings: ServeSettings,
        certificate: String,
        key: String,
        trust: TrustState
    ) throws -> TLSServerContext {
        var tls = TLSServerConfiguration(
            certificateChain: .file(certificate),
            privateKey: .file(key),
            trust: trust.policy
        )
        tls.sessionTickets = settings.sessionTickets
        if settings.legacyCiphers {
            tls.tls12Ciphers =
                TLSServerConfiguration.modernTLS12Ciphers + ":" + TLSServerConfiguration.legacyVCenterTLS12Ciphers
        }
        let context: TLSServerContext
        do {
            context = try TLSServerContext(configuration: tls)
        } catch {
            throw SettingsError(
                "TLS: the certificate \(certificate) and key \(key) cannot be used: "
                    + ServeErrorText.firstOpenSSLReason(error.reason)
            )
        }
        trust.attach(context)
        return context
    }

    /// The admin API's operations: the control plane of this process.
    func adminOperations() -> ControlAdminOperations {
        let trust = self.trust
        return ServeAdminOperations.make(
            store: self.data.store,
            rootKeys: self.data.rootKeys,
            directory: self.data.directory,
            keyAccess: self.keyAccess,
            executor: BatchExecutor(core: self.core),
            audit: self.auditFile,
            reserve: self.reserve,
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
        )
    }

    /// Folds the reactor's, the re-wrap job's and Key Protect's counters in before a scrape.
    func collectMetrics() {
        self.metrics.collect(
            reactor: self.server.statistics,
            rewrap: self.rewrapper.progress,
            keyProtect: (self.data.provider.service as? KeyProtectRootKeyService)?.statistics
        )
    }
}
