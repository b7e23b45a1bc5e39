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
import Dispatch
import Foundation
import IOReactor
import KMIPServer
import KeyStore
import Prometheus
import RootKeys
import Synchronization

/// The admin listener of `keystorm serve`: settings, the token, the address file the CLI reads,
/// and the service that runs it.
///
/// Settings (flag, env, file as for every setting):
/// - `admin-listen` (`--admin-listen`, `KEYSTORM_ADMIN_LISTEN`): default `127.0.0.1:9696`; `off`
///   disables the listener.
/// - `admin.allow-remote`: allow binding an address off the loopback network (default false).
/// - `admin.remote-peers`: peers off the loopback network admitted at all (`*`, IPs, CIDRs).
/// - `admin.metrics-token-required`: `/metrics`, `/healthz`, `/readyz` need the token too.
struct AdminServer: Sendable {
    let server: AdminHTTPServer
    let directory: DataDirectory

    /// Reads the settings and the token (creating `admin.token` on first start); `nil` when the
    /// listener is off.
    ///
    /// - Throws: ``SettingsError`` for a bad setting, or a non-loopback `admin-listen` without
    ///   `admin.allow-remote = true`.
    static func make(
        settings: SettingsResolver,
        flag: String?,
        directory: DataDirectory,
        operations: any AdminOperations,
        metrics: PrometheusCollectorRegistry,
        beforeScrape: @escaping @Sendable () async -> Void
    ) throws -> AdminServer? {
        let text = settings.string("admin-listen", flag: flag, default: "127.0.0.1:9696")
        if ["off", "none", "disabled"].contains(text.lowercased()) { return nil }
        let address = try ListenAddress(parsing: text, setting: "admin-listen")
        let allowRemote = try settings.boolean("admin.allow-remote", flag: nil, default: false)
        let peers: AdminPeerList
        do {
            peers = try settings.string("admin.remote-peers", flag: nil).map { try AdminPeerList(parsing: $0) } ?? .none
        } catch let error as AdminAPIError {
            throw SettingsError(error.message)
        }
        let token: AdminToken
        do {
            token = try AdminToken.loadOrCreate(at: directory.adminTokenPath).token
        } catch {
            throw SettingsError("\(error)")
        }
        let configuration = AdminHTTPServer.Configuration(
            host: address.host,
            port: address.port,
            token: token,
            metricsTokenRequired: try settings.boolean("admin.metrics-token-required", flag: nil, default: false),
            allowRemote: allowRemote,
            remotePeers: peers,
            requestTimeout: .seconds(try Self.positive(settings, "admin.request-timeout", default: 10)),
            bodyTimeout: .seconds(try Self.positive(settings, "admin.body-timeout", default: 10))
        )
        do {
            let server = try AdminHTTPServer(
                configuration: configuration,
                operations: operations,
                metrics: metrics,
                beforeScrape: beforeScrape,
                log: { Log.error($0) }
            )
            return AdminServer(server: server, directory: directory)
        } catch let error as AdminAPIError {
            throw SettingsError(error.message)
        }
    }

    /// A whole number of seconds, at least 1.
    private static func positive(_ settings: SettingsResolver, _ key: String, default fallback: Int) throws -> Int {
        let value = try settings.integer(key, flag: nil, default: fallback)
        guard value >= 1 else { throw SettingsError("'\(key)' must be at least 1 (seconds), not \(value)") }
        return value
    }

    /// The listener as a service of `keystorm serve`'s group: serves until graceful shutdown.
    /// Once bound it logs where, writes the address to `admin.address` in the data directory for
    /// the CLI, then calls `bound`; the file goes when the listener stops. A bind failure names
    /// the listener and the address.
    func service(bound: @escaping @Sendable () -> Void) -> NamedService {
        NamedService("admin API") { try await self.run(bound: bound) }
    }

    private func run(bound: @escaping @Sendable () -> Void) async throws {
        let directory = self.directory
        let host = self.server.configuration.host
        let listening = ListeningFlag()
        defer { try? FileManager.default.removeItem(atPath: directory.adminAddressPath) }
        do {
            try await self.server.run { port in
                listening.set()
                // File I/O off the cooperative pool and off the listener's event loop.
                DispatchQueue.global().async {
                    let address = ListenAddress(host: host, port: port)
                    try? Data("\(address)\n".utf8).write(
                        to: URL(fileURLWithPath: directory.adminAddressPath),
                        options: .atomic
                    )
                    Log.notice(
                        "Admin API, /metrics, /healthz and /readyz on http://\(address) (bearer token in \(directory.adminTokenPath))."
                    )
                    bound()
                }
            }
        } catch let error where !listening.isSet {
            let address = ListenAddress(host: host, port: self.server.configuration.port)
            throw ListenerError(listener: "admin API", address: "\(address)", error: error)
        }
    }
}

/// Whether the admin listener got as far as binding its address.
private final class ListeningFlag: Sendable {
    private let bound = Atomic<Bool>(false)
    var isSet: Bool { self.bound.load(ordering: .relaxed) }
    func set() { self.bound.store(true, ordering: .relaxed) }
}

extension DataDirectory {
    /// The admin API's bearer token (mode 0600), created on the first start.
    var adminTokenPath: String { self.path + "/admin.token" }
    /// `host:port` of the running server's admin listener; present while it runs.
    var adminAddressPath: String { self.path + "/admin.address" }
}
