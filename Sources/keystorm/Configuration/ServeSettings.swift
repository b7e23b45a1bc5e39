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
import KMIPServer
import Logging

/// Every setting of `keystorm serve`, read and checked before anything starts: a bad value stops
/// the start with a message naming the setting, before the data directory is touched.
struct ServeSettings {
    var listen: ListenAddress
    var reactor: ReactorConfiguration
    /// `tls.cert` and `tls.key` when given: both or neither, and readable.
    var tlsCertificate: String?
    var tlsKey: String?
    var sessionTickets: Int
    var legacyCiphers: Bool
    var clientCA: String?
    /// The `store` setting: the data directory's SQLite file or a shared PostgreSQL database.
    var store: StoreLocation
    var refreshInterval: Duration
    var pollInterval: Duration
    var reserveBytes: Int64
    var kmip: KMIPServerConfiguration
    var prewarmAtStart: Int
    /// `shutdown.grace-period`: how long in-flight operations may take after SIGTERM/SIGINT.
    var gracePeriod: Duration

    init(_ command: ServeCommand, _ settings: SettingsResolver) throws {
        self.listen = try ListenAddress(
            parsing: settings.string("listen", flag: command.listen, default: "127.0.0.1:5696"),
            setting: "listen"
        )
        self.store = try StoreLocation(settings, flag: command.store)
        self.reactor = try Self.reactor(command, settings, listen: self.listen)
        self.tlsCertificate = settings.string("tls.cert", flag: command.tlsCert)
        self.tlsKey = settings.string("tls.key", flag: command.tlsKey)
        self.sessionTickets = try settings.integer("tls.session-tickets", flag: command.sessionTickets, default: 1)
        self.legacyCiphers = try settings.boolean(
            "tls.legacy-ciphers",
            flag: command.legacyCiphers ? true : nil,
            default: false
        )
        try ServeFileCheck.pair(certificate: self.tlsCertificate, key: self.tlsKey)
        self.clientCA = settings.string("client-ca", flag: command.clientCA)
        if let clientCA = self.clientCA { try ServeFileCheck.readable(clientCA, setting: "--client-ca") }
        let refresh = try settings.integer("refresh-interval", flag: command.refreshInterval, default: 1)
        self.refreshInterval = .seconds(max(1, refresh))
        self.pollInterval = try Self.duration(settings, "root-keys.poll-interval", flag: command.pollInterval, "30s")
        let reserve = try settings.integer("storage.reserve-bytes", flag: command.storageReserve, default: 64 << 20)
        guard reserve >= 0 else { throw SettingsError("'storage.reserve-bytes' must be 0 or more, not \(reserve)") }
        self.reserveBytes = Int64(reserve)
        self.kmip = KMIPServerConfiguration()
        self.kmip.maxLocateItems = try settings.integer(
            "locate.max-items",
            flag: command.locateMaxItems,
            default: self.kmip.maxLocateItems
        )
        guard self.kmip.maxLocateItems >= 1 else { throw SettingsError("'locate.max-items' must be at least 1") }
        self.prewarmAtStart = try settings.integer("cache.prewarm", flag: command.cachePrewarm, default: 0)
        self.gracePeriod = try Self.duration(
            settings,
            "shutdown.grace-period",
            flag: command.shutdownGracePeriod,
            "10s"
        )
    }

    /// A duration setting (`30s`, `500ms`, `2m`) that must be longer than 0.
    private static func duration(
        _ settings: SettingsResolver,
        _ key: String,
        flag: String?,
        _ fallback: String
    ) throws -> Duration {
        let value = try RootKeyServiceFactory.parseDuration(
            settings.string(key, flag: flag, default: fallback),
            key: key
        )
        guard value > .zero else { throw SettingsError("'\(key)' must be longer than 0") }
        return value
    }

    /// The reactor's address, backend and limits (TLS is added once the files are checked).
    private static func reactor(
        _ command: ServeCommand,
        _ settings: SettingsResolver,
        listen: ListenAddress
    ) throws -> ReactorConfiguration {
        let backendText = settings.string("io-backend", flag: command.ioBackend, default: "automatic")
        guard let backend = IOBackendKind(backendText) else {
            throw SettingsError("io-backend must be uring, epoll or automatic, not '\(backendText)'")
        }
        var reactor = ReactorConfiguration()
        reactor.host = listen.host
        reactor.port = listen.port
        reactor.ioBackend = backend
        reactor.loopCount = try settings.integer(
            "loops",
            flag: command.loops,
            default: ReactorConfiguration.onlineProcessors
        )
        reactor.maxConnections = try settings.integer(
            "max-connections",
            flag: command.maxConnections,
            default: 10_000
        )
        reactor.handshakeTimeout = .seconds(
            try settings.integer("handshake-timeout", flag: command.handshakeTimeout, default: 10)
        )
        reactor.idleTimeout = .seconds(try settings.integer("idle-timeout", flag: command.idleTimeout, default: 120))
        reactor.maxHandshakingConnections = try Self.positive(
            settings.integer(
                "max-handshaking-connections",
                flag: command.maxHandshakingConnections,
                default: 1_000
            ),
            key: "max-handshaking-connections"
        )
        reactor.maxHandshakesPerSource = try Self.positive(
            settings.integer("max-handshakes-per-source", flag: command.maxHandshakesPerSource, default: 100),
            key: "max-handshakes-per-source"
        )
        reactor.handshakeTimeoutUnderPressure = .seconds(
            try Self.positive(
                settings.integer(
                    "handshake-timeout-under-pressure",
                    flag: command.handshakeTimeoutUnderPressure,
                    default: 2
                ),
                key: "handshake-timeout-under-pressure"
            )
        )
        reactor.log = Log.sink(.info)
        return reactor
    }

    /// `value`, or a settings error naming `key` when it is not at least 1.
    static func positive(_ value: Int, key: String) throws -> Int {
        guard value >= 1 else { throw SettingsError("'\(key)' must be at least 1, not \(value)") }
        return value
    }
}
