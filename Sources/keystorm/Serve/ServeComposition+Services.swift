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

import Foundation
import IOReactor
import KMIPServer
import KeyStore
import KeystormControl
import Logging
import RootKeys
import ServiceLifecycle
import Synchronization
import UnixSignals

extension ServeComposition {
    /// The one service group of `keystorm serve`.
    ///
    /// Services start in this order and, on SIGTERM or SIGINT, stop in the reverse one: the
    /// start-up message, the KMIP listener (stops accepting, drains within `shutdown.grace-period`),
    /// the admin API, the re-wrap job (stops between keys: each re-wrapped key is saved, the next
    /// start resumes), the prewarmer, the rule refresher, the root-key monitor, and last the audit
    /// log (waits for its last write). A service that throws shuts the others down the same way and
    /// the process exits non-zero, logging which service failed and why.
    func serviceGroup(admin: AdminServer?) -> ServiceGroup {
        let (bound, boundSignal) = AsyncStream<Void>.makeStream()
        var services: [NamedService] = [
            self.audit.service,
            NamedService.every("root-key monitor", self.settings.pollInterval) { [monitor = self.monitor] in
                _ = await monitor.poll()
            },
            NamedService.every("rule refresher", self.settings.refreshInterval) { await self.refresh() },
            self.prewarmService(adminAPI: admin != nil),
            self.rewrapService(),
        ]
        if case .postgres = self.settings.store { services.append(self.heartbeatService()) }
        if let admin {
            services.append(admin.service { boundSignal.yield() })
        } else {
            boundSignal.finish()
        }
        services.append(
            NamedService("KMIP listener") {
                try await ReactorService(
                    server: self.server,
                    gracePeriod: self.settings.gracePeriod,
                    handler: self.connectionHandler()
                ).run()
            }
        )
        var configurations = services.map {
            ServiceGroupConfiguration.ServiceConfiguration(
                service: $0,
                successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup
            )
        }
        configurations.append(.init(service: self.announcement(adminBound: bound), successTerminationBehavior: .ignore))
        var logger = Logger(label: "keystorm.lifecycle")
        logger.logLevel = .notice
        var configuration = ServiceGroupConfiguration(
            services: configurations,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        // The drain is bounded by the grace period; the rest (the admin API's open requests, the
        // re-wrap job's current key, the audit log's last fsync) gets a few seconds more.
        configuration.maximumGracefulShutdownDuration = self.settings.gracePeriod + .seconds(5)
        configuration.maximumCancellationDuration = .seconds(10)
        return ServiceGroup(configuration: configuration)
    }

    /// Logs the start-up message once the admin listener is bound too (the KMIP listener is
    /// bound before the group starts), and marks a first start complete.
    private func announcement(adminBound: AsyncStream<Void>) -> NamedService {
        NamedService("start-up message") {
            await cancelWhenGracefulShutdown {
                for await _ in adminBound { break }
                guard !Task.isCancelled else { return }
                Banner.print(
                    directory: self.data.directory,
                    listen: ListenAddress(host: self.settings.listen.host, port: self.server.port),
                    backend: self.server.backend,
                    firstStart: self.data.firstStart,
                    generatedTLS: self.data.generatedTLS,
                    serverCertificate: self.serverCertificate
                )
                self.data.completeFirstStart()
            }
        }
    }

    /// Every refresh interval: client rules, root keys changed by another process, open
    /// connections whose admission went, expired cache entries.
    func refresh() async {
        do {
            try await self.trust.load()
            try await self.data.provider.refresh?()
            // A root key deleted or disabled by `keystorm root-key` stops serving cached keys too.
            if let known = self.data.provider.knownRootKeys { self.monitor.observe(known()) }
            self.sweeper.sweep(try await self.data.store.tenants())
            self.keyAccess.cache.removeExpired()
        } catch is CancellationError {
            return
        } catch {
            Log.error("reloading client rules and root keys failed: \(error)")
        }
    }

    /// With a shared store: this node's heartbeat for `keystorm cluster status`, every
    /// ``ClusterRegistry/interval``. A failed beat is logged once until one succeeds again.
    private func heartbeatService() -> NamedService {
        let started = Int64(Date().timeIntervalSince1970)
        let failing = Mutex(false)
        let beat: @Sendable () async -> Void = {
            let node = ClusterNode(
                id: self.data.nodeID,
                kmipAddress: "\(ListenAddress(host: self.settings.listen.host, port: self.server.port))",
                version: KeystormVersion.text,
                startedAt: started,
                heartbeatAt: Int64(Date().timeIntervalSince1970),
                cachedKeys: self.keyAccess.cache.statistics.entries
            )
            do {
                try await ClusterRegistry.beat(node, store: self.data.store)
                if failing.withLock({ state in defer { state = false }; return state }) {
                    Log.info("cluster heartbeat written again")
                }
            } catch {
                if !failing.withLock({ state in defer { state = true }; return state }) {
                    Log.error("cluster heartbeat failed: \(error)")
                }
            }
        }
        return NamedService("cluster heartbeat") {
            await beat()
            try await NamedService.every("cluster heartbeat", ClusterRegistry.interval, beat).run()
        }
    }

    /// The re-wrap job: stops between keys on shutdown; every key re-wrapped is saved, so the
    /// next start goes on where this one stopped.
    private func rewrapService() -> NamedService {
        NamedService("re-wrap job") {
            let rewrapper = self.rewrapper
            let interval = self.settings.refreshInterval
            await cancelWhenGracefulShutdown { await rewrapper.run(every: interval) }
            let unfinished = rewrapper.progress.filter { $0.remaining > 0 }
            if !unfinished.isEmpty {
                let tenants = unfinished.map { "\($0.tenantID) (\($0.remaining) left)" }.joined(separator: ", ")
                Log.info("re-wrap stopped for shutdown; the next start resumes: \(tenants)")
            }
        }
    }

    /// `cache.prewarm` at start; the requests `keystorm keys prewarm` left in the data directory
    /// while no server ran; and, only when the admin API is off (the command's other way to reach
    /// this process), the requests it leaves while the server runs.
    private func prewarmService(adminAPI: Bool) -> NamedService {
        let prewarmer = Prewarmer(store: self.data.store, keyAccess: self.keyAccess)
        let directory = self.data.directory
        let store = self.data.store
        let recentAtStart = self.settings.prewarmAtStart
        let interval = self.settings.refreshInterval
        return NamedService("prewarmer") {
            await cancelWhenGracefulShutdown {
                if recentAtStart > 0 {
                    for tenant in (try? await store.tenants()) ?? [] {
                        await Self.prewarm(prewarmer, tenant: tenant.id, recent: recentAtStart)
                    }
                }
                repeat {
                    for request in await directory.takePrewarmRequests() {
                        await Self.prewarm(prewarmer, tenant: request.tenant, recent: request.recent)
                    }
                    if adminAPI { break }
                    try? await Task.sleep(for: interval)
                } while !Task.isCancelled
                if adminAPI { try? await gracefulShutdown() }
            }
        }
    }

    /// Prewarms one tenant's most recent keys and logs the outcome.
    static func prewarm(_ prewarmer: Prewarmer, tenant: String, recent: Int) async {
        do {
            let result = try await prewarmer.prewarm(tenant: tenant, recent: recent)
            Log.info(
                "prewarmed tenant \(tenant): \(result.warmed) of \(result.considered) recent keys cached, \(result.failed) failed"
            )
        } catch {
            Log.error("prewarming tenant \(tenant) failed: \(error)")
        }
    }

    /// Serves one KMIP connection: admitted by a client rule, registered so that revoking what
    /// admitted it closes it, then handed to the KMIP server.
    private func connectionHandler() -> @Sendable (sending ReactorConnection) async throws -> Void {
        let trust = self.trust
        let metrics = self.metrics
        let handler = KMIPConnectionHandler(executor: BatchExecutor(core: self.core))
        return { connection in
            guard let peer = connection.peerCertificate,
                let identity = trust.identify(peer)
            else {
                metrics.connectionRefusedByRules()
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
            metrics.connectionOpened()
            defer { metrics.connectionClosed() }
            await handler.serve(ReactorByteChannel(connection: connection), client: identity)
        }
    }
}
