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
    let client: PostgresClient
    let configuration: PostgresStoreConfiguration
    let logger: Logger
    private let runner: Task<Void, Never>

    private init(client: PostgresClient, configuration: PostgresStoreConfiguration, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        self.runner = Task { await client.run() }
    }

    deinit {
        self.runner.cancel()
    }

    /// Connects to the database, creates or migrates Keystorm's tables, and returns the store.
    ///
    /// - Parameters:
    ///   - configuration: Where the database is and how to reach it.
    ///   - logger: Receives the pool's connection events (never a query's values).
    /// - Returns: A store whose pool keeps running until ``close()``.
    /// - Throws: ``KeyStoreError/storage`` when the database cannot be reached within
    ///   ``PostgresStoreConfiguration/connectTimeout``, refuses the credentials, or was migrated
    ///   by a newer Keystorm.
    public static func connect(
        _ configuration: PostgresStoreConfiguration,
        logger: Logger = Logger(label: "keystorm.store.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> PostgresKeyStore {
        let client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger)
        let store = PostgresKeyStore(client: client, configuration: configuration, logger: logger)
        do {
            try await store.migrate()
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    /// Closes the pool. Calls made afterwards fail with ``KeyStoreError/storage``.
    public func close() async {
        self.runner.cancel()
        await self.runner.value
    }

    /// Where the store is, without the password: `postgres://user@host:port/database`.
    public var location: String { self.configuration.redactedURL }
}
#endif
