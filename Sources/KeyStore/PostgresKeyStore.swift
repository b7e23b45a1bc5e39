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

#if PostgreSQL
public import Logging
import PostgresNIO
import Synchronization

/// The shared ``KeyStore``: one PostgreSQL database that several Keystorm nodes use at once,
/// through postgres-nio's connection pool.
///
/// Every mutating call is one transaction and returns once PostgreSQL has committed it, so an
/// acknowledged KMIP Create is durable (with `synchronous_commit` on, PostgreSQL's default) and
/// visible to every node that reads afterwards. Updates use the same optimistic revisions as the
/// SQLite store, checked inside the `UPDATE`, so two nodes that change one object at once cannot
/// both win. Everything runs on postgres-nio's event loops; nothing blocks the cooperative pool.
///
/// ``connect(_:logger:)`` applies the schema migrations (see ``migrationIdentifiers``) under an
/// advisory lock, so nodes that start together migrate once. Each call has a deadline
/// (``Configuration/operationTimeout``): a database that does not answer fails the call with a
/// ``KeyStoreError/storage`` error naming it, never a hang.
///
/// ```swift
/// let store = try await PostgresKeyStore.connect(.init(url: "postgres://keystorm@db:5432/keystorm"))
/// defer { Task { await store.close() } }
/// ```
public final class PostgresKeyStore: KeyStore {
    /// One pool per server of the URL; calls go to ``primary``'s.
    let clients: [PostgresClient]
    let configuration: PostgresStoreConfiguration
    let logger: Logger
    private let runners: [Task<Void, Never>]
    /// The index of the server that takes writes, and when the servers were last probed.
    let primary = Mutex<(index: Int, probedAt: ContinuousClock.Instant?)>((0, nil))

    private init(configuration: PostgresStoreConfiguration, logger: Logger) {
        let clients = configuration.hosts.map {
            PostgresClient(configuration: configuration.clientConfiguration($0), backgroundLogger: logger)
        }
        self.clients = clients
        self.configuration = configuration
        self.logger = logger
        self.runners = clients.map { client in Task { await client.run() } }
    }

    deinit {
        for runner in self.runners { runner.cancel() }
    }

    /// The pool of the server that takes writes now.
    var client: PostgresClient { self.clients[self.primary.withLock { $0.index }] }

    /// Connects to the database, creates or migrates Keystorm's tables, and returns the store.
    ///
    /// With several servers in the URL it first finds the one that takes writes.
    ///
    /// - Parameters:
    ///   - configuration: Where the database is and how to reach it.
    ///   - logger: Receives the pool's connection events (never a query's values).
    /// - Returns: A store whose pools keep running until ``close()``.
    /// - Throws: ``KeyStoreError/storage`` when the database refuses the credentials or was migrated
    ///   by a newer Keystorm, ``KeyStoreError/unavailable`` when no server answers as a primary
    ///   within ``PostgresStoreConfiguration/connectTimeout``.
    public static func connect(
        _ configuration: PostgresStoreConfiguration,
        logger: Logger = Logger(label: "keystorm.store.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> PostgresKeyStore {
        let store = PostgresKeyStore(configuration: configuration, logger: logger)
        do {
            if configuration.hosts.count > 1 { try await store.findPrimary(force: true) }
            try await store.migrate()
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    /// Closes the pools. Calls made afterwards fail with ``KeyStoreError/unavailable``.
    public func close() async {
        for runner in self.runners { runner.cancel() }
        for runner in self.runners { await runner.value }
    }

    /// Where the store is, without the password: `postgres://user@host:port/database`.
    public var location: String { self.configuration.redactedURL }
}
#endif
