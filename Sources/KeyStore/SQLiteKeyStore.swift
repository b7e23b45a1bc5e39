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
import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// The embedded ``KeyStore``: one SQLite file in the data directory, through GRDB.
///
/// The file is opened in WAL mode with `synchronous=FULL`, `foreign_keys=ON` and a busy timeout,
/// so every mutating call returns only once its transaction is committed to disk. Writes are
/// serialized on GRDB's writer queue, and by default those that arrive while a commit is running
/// share the next one (see ``Configuration/groupCommit``); reads run concurrently on GRDB's
/// reader connections. All of it runs on GRDB's own dispatch queues, so awaiting it never blocks
/// the cooperative thread pool. Cancelling a read interrupts its statement (`sqlite3_interrupt`);
/// a write, once queued, runs to its commit.
///
/// Opening the store applies the schema migrations (see ``migrationIdentifiers``). Every object
/// query is scoped by tenant: an object of another tenant is not found, not listed and not updated.
///
/// Methods throw ``KeyStoreError`` (or `CancellationError` when the calling task is cancelled).
/// A row that does not decode, a corrupted file or an I/O failure is a ``KeyStoreError/storage``
/// error, never a crash.
///
/// ```swift
/// let store = try SQLiteKeyStore(path: dataDirectory + "/keystorm.sqlite")
/// try await store.createTenant(tenant)
/// ```
public final class SQLiteKeyStore: KeyStore {
    /// How the store opens its database.
    public struct Configuration: Hashable, Sendable {
        /// How long a connection waits for a lock held by another process before failing
        /// with ``KeyStoreError/storage``.
        public var busyTimeout: Duration
        /// The number of concurrent reader connections of a file-backed store.
        public var maximumReaderCount: Int
        /// Whether writes that arrive while a commit is running share the next transaction
        /// (one fsync for the group). Each write still succeeds or fails alone, and returns only
        /// once its transaction is committed.
        public var groupCommit: Bool

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - busyTimeout: How long to wait for a lock held by another process. Five seconds
        ///     by default.
        ///   - maximumReaderCount: Concurrent reader connections (at least one). Four by default.
        ///   - groupCommit: Whether concurrent writes share commits. On by default.
        public init(busyTimeout: Duration = .seconds(5), maximumReaderCount: Int = 4, groupCommit: Bool = true) {
            self.busyTimeout = busyTimeout
            self.maximumReaderCount = maximumReaderCount
            self.groupCommit = groupCommit
        }
    }

    let writer: any DatabaseWriter
    /// Present when ``Configuration/groupCommit`` is on: every mutating call goes through it.
    let groupCommitter: GroupCommitter?

    /// Opens (creating if needed) the SQLite database at `path` and migrates it.
    ///
    /// Opening and migrating run on the calling thread: open the store once at startup, before
    /// serving, as the composition root does.
    ///
    /// - Parameters:
    ///   - path: The database file, usually in the data directory. Its directory must exist.
    ///   - configuration: Timeouts and connection counts.
    /// - Throws: ``KeyStoreError/storage`` when the file cannot be opened, is not a database,
    ///   is corrupted, or was migrated by a newer Keystorm.
    public convenience init(path: String, configuration: Configuration = Configuration()) throws {
        let writer: any DatabaseWriter
        do {
            try Self.restrictPermissions(path)
            var grdb = Self.grdbConfiguration(configuration)
            grdb.maximumReaderCount = max(1, configuration.maximumReaderCount)
            writer = try DatabasePool(path: path, configuration: grdb)
        } catch {
            throw Self.storageError(opening: error, path: path)
        }
        do {
            try self.init(migrating: writer, configuration: configuration)
        } catch {
            throw Self.storageError(opening: error, path: path)
        }
    }

    /// Creates the database file owner-only (`0600`) before SQLite opens it, and narrows an
    /// existing file and its WAL and shared-memory files to `0600`. SQLite gives the WAL and
    /// shared-memory files the mode of the database file, so none of them is ever readable by
    /// others, whatever the process umask.
    static func restrictPermissions(_ path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            let code = errno
            throw KeyStoreError(
                .storage,
                reason: "cannot open \(path): \(String(cString: strerror(code)))\(DiskSpace.fullNote(code, path: path))"
            )
        }
        _ = fchmod(fd, 0o600)
        _ = Glibc.close(fd)
        for suffix in ["-wal", "-shm"] { _ = chmod(path + suffix, 0o600) }
    }

    /// Opens a private in-memory database, for tests of other components.
    ///
    /// Nothing is durable and nothing outlives the store; use ``init(path:configuration:)`` with a
    /// file in a temporary directory to test durability.
    ///
    /// - Parameter configuration: Timeouts.
    /// - Returns: An empty, migrated store.
    /// - Throws: ``KeyStoreError/storage`` when SQLite fails to start.
    public static func inMemory(configuration: Configuration = Configuration()) throws -> SQLiteKeyStore {
        let writer: any DatabaseWriter
        do {
            writer = try DatabaseQueue(configuration: Self.grdbConfiguration(configuration))
        } catch {
            throw Self.storageError(opening: error)
        }
        return try SQLiteKeyStore(migrating: writer, configuration: configuration)
    }

    private init(migrating writer: any DatabaseWriter, configuration: Configuration) throws {
        do {
            // DatabasePool sets `synchronous=NORMAL` on its writer connection after
            // `prepareDatabase` when it enables WAL; the writer is opened once and lives as long
            // as the pool, so setting FULL here covers every write.
            try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            let migrator = Self.migrator
            if try writer.read({ try migrator.hasBeenSuperseded($0) }) {
                throw KeyStoreError(
                    .storage,
                    reason:
                        "the database has migrations this version of Keystorm does not know (written by a newer one)"
                )
            }
            try migrator.migrate(writer)
        } catch {
            throw Self.storageError(opening: error)
        }
        self.writer = writer
        self.groupCommitter = configuration.groupCommit ? GroupCommitter(writer: writer) : nil
    }

    /// Closes every connection. Later calls throw ``KeyStoreError/storage``.
    ///
    /// Closing is optional: the connections close when the store is released. It waits for the
    /// running statements, so call it at shutdown, off the cooperative pool's hot path.
    ///
    /// - Throws: ``KeyStoreError/storage`` when a connection cannot be closed.
    public func close() throws {
        do {
            try self.writer.close()
        } catch {
            throw Self.storageError(opening: error)
        }
    }

    private static func grdbConfiguration(_ configuration: Configuration) -> GRDB.Configuration {
        var grdb = GRDB.Configuration()
        grdb.foreignKeysEnabled = true
        let timeout = configuration.busyTimeout.components
        grdb.busyMode = .timeout(Double(timeout.seconds) + Double(timeout.attoseconds) * 1e-18)
        grdb.label = "Keystorm.SQLiteKeyStore"
        grdb.prepareDatabase { db in
            // WAL (set by DatabasePool) + FULL: a commit is durable once it returns, even on a
            // power loss; NORMAL only protects against a process crash. See also
            // init(migrating:), which sets it again on the writer.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        return grdb
    }

    private static func storageError(
        opening error: any Error,
        path: String? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> any Error {
        if let error = error as? KeyStoreError, let path, error.code == .storage, !error.reason.contains("is full)") {
            // Migrations on a full disk fail inside GRDB; name the cause.
            let note = DiskSpace.fullNote(nil, path: path)
            return note.isEmpty ? error : KeyStoreError(.storage, reason: error.reason + note, file: file, line: line)
        }
        return StorageErrorMapping.map(error, path: path, file: file, line: line)
    }
}
