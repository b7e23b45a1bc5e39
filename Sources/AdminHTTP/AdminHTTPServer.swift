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

public import Hummingbird
import Logging
import NIOCore
public import Prometheus

/// The admin listener (`admin-listen`, default 127.0.0.1:9696): `/metrics`, `/healthz`,
/// `/readyz` and the `/v1` admin API over plain HTTP, on the loopback network by default.
///
/// ```swift
/// let server = try AdminHTTPServer(
///     configuration: .init(host: "127.0.0.1", port: 9696, token: token),
///     operations: operations,
///     metrics: registry
/// )
/// try await server.run { port in print("admin API on port \(port)") }
/// ```
public struct AdminHTTPServer: Sendable {
    /// Where it listens and who it admits.
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Whether binding an address off the loopback network is allowed (key `admin.allow-remote`).
        public var allowRemote: Bool
        public var policy: AdminAccessPolicy
        /// How long a connection may take to send a request's headers, and stay silent between
        /// requests or between parts of a body, before it is closed (key `admin.request-timeout`).
        public var requestTimeout: Duration
        /// How long reading one request's body may take in all (a body sent a byte at a time
        /// is cut off here), answered 408.
        public var bodyTimeout: Duration

        public init(
            host: String,
            port: Int,
            token: AdminToken,
            metricsTokenRequired: Bool = false,
            allowRemote: Bool = false,
            remotePeers: AdminPeerList = .none,
            requestTimeout: Duration = .seconds(10),
            bodyTimeout: Duration = .seconds(10)
        ) {
            self.host = host
            self.port = port
            self.allowRemote = allowRemote
            self.requestTimeout = requestTimeout
            self.bodyTimeout = bodyTimeout
            self.policy = AdminAccessPolicy(
                token: token,
                metricsTokenRequired: metricsTokenRequired,
                remotePeers: remotePeers
            )
        }
    }

    public let configuration: Configuration
    private let operations: any AdminOperations
    private let metrics: PrometheusCollectorRegistry
    private let beforeScrape: @Sendable () async -> Void
    private let log: @Sendable (String) -> Void

    /// - Parameters:
    ///   - configuration: Address and access policy.
    ///   - operations: What the API does.
    ///   - metrics: The registry `/metrics` renders.
    ///   - beforeScrape: Runs before each `/metrics` rendering.
    ///   - log: Where start-up and unexpected route errors are reported.
    /// - Throws: ``AdminAPIError`` when the address is off the loopback network and remote access
    ///   is not allowed.
    public init(
        configuration: Configuration,
        operations: any AdminOperations,
        metrics: PrometheusCollectorRegistry,
        beforeScrape: @escaping @Sendable () async -> Void = {},
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        try Self.checkBinding(host: configuration.host, allowRemote: configuration.allowRemote)
        self.configuration = configuration
        self.operations = operations
        self.metrics = metrics
        self.beforeScrape = beforeScrape
        self.log = log
    }

    /// Refuses an address outside the loopback network unless `allowRemote`: the admin API
    /// rotates and deletes root keys, so exposing it is an explicit decision.
    public static func checkBinding(host: String, allowRemote: Bool) throws {
        guard allowRemote || AdminAccessPolicy.isLoopbackHost(host) else {
            throw AdminAPIError(
                .badRequest,
                "admin-listen \(host) is not a loopback address: the admin API and /metrics stay on the loopback "
                    + "network unless admin.allow-remote = true is set (even then, peers off the loopback network get "
                    + "403 unless admin.remote-peers admits them, and /v1 always needs the token)"
            )
        }
    }

    /// The router, for tests and for embedding.
    public func router() -> Router<AdminRequestContext> {
        AdminRoutes.router(
            policy: self.configuration.policy,
            operations: self.operations,
            metrics: self.metrics,
            beforeScrape: self.beforeScrape,
            log: self.log,
            bodyTimeout: self.configuration.bodyTimeout
        )
    }

    /// Serves until graceful shutdown (it is a `Service`: run it in the process's `ServiceGroup`,
    /// whose graceful shutdown lets requests in progress finish) or until the task is cancelled.
    ///
    /// - Parameter onListening: Called once with the bound port (useful with port 0).
    /// - Throws: When the address cannot be bound.
    public func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
        var logger = Logger(label: "keystorm.admin")
        logger.logLevel = .warning
        // A peer that opens a connection and sends half a request is closed after the request
        // timeout (no part of a request arrived), so idle connections cannot pile up.
        let timeout = self.configuration.requestTimeout.components
        let idle = TimeAmount.nanoseconds(timeout.seconds * 1_000_000_000 + timeout.attoseconds / 1_000_000_000)
        let application = Application(
            router: self.router(),
            server: .http1(configuration: .init(idleTimeout: idle)),
            configuration: ApplicationConfiguration(
                address: .hostname(self.configuration.host, port: self.configuration.port),
                serverName: "keystorm"
            ),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        // The application is itself a Service: the caller's graceful shutdown reaches it.
        try await application.run()
    }
}
