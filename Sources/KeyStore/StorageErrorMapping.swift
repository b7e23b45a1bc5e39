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

import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// Turns what GRDB and SQLite throw into ``KeyStoreError``.
///
/// Reasons carry SQLite's message (which names constraints and columns, never bound values,
/// since GRDB keeps statement arguments private) and never a row: a ``RowDecodingError``'s
/// description prints the row, so only the fact that decoding failed is kept.
enum StorageErrorMapping {
    /// What a constraint failure means for the statement that hit it.
    struct Meaning: Sendable {
        /// The reason of the ``KeyStoreError/alreadyExists`` error for a primary-key or unique
        /// violation; `nil` treats it as a storage error.
        var duplicate: String?
        /// The reason of the ``KeyStoreError/notFound`` error for a foreign-key violation
        /// (the tenant does not exist); `nil` treats it as a storage error.
        var missingParent: String?

        static let none = Meaning(duplicate: nil, missingParent: nil)
    }

    static func map(
        _ error: any Error,
        meaning: Meaning = .none,
        path: String? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> any Error {
        switch error {
        case let error as KeyStoreError:
            return error
        case let error as CancellationError:
            return error
        case let error as DatabaseError:
            let code = error.extendedResultCode
            if code == .SQLITE_CONSTRAINT_PRIMARYKEY || code == .SQLITE_CONSTRAINT_UNIQUE,
                let duplicate = meaning.duplicate
            {
                return KeyStoreError(.alreadyExists, reason: duplicate, file: file, line: line)
            }
            if code == .SQLITE_CONSTRAINT_FOREIGNKEY, let missingParent = meaning.missingParent {
                return KeyStoreError(.notFound, reason: missingParent, file: file, line: line)
            }
            let message = error.message.map { ": \($0)" } ?? ""
            // SQLITE_FULL, or an I/O error (a WAL or shared-memory file that cannot grow
            // fails as SQLITE_IOERR_SHMSIZE, 4874) on a file system with no space left: say so.
            let primary = code.primaryResultCode
            var note = ""
            if let path, primary == .SQLITE_FULL || primary == .SQLITE_IOERR || primary == .SQLITE_CANTOPEN {
                note = DiskSpace.fullNote(primary == .SQLITE_FULL ? ENOSPC : nil, path: path)
            }
            return KeyStoreError(
                .storage,
                reason: "SQLite error \(code.rawValue)\(message)\(note)",
                file: file,
                line: line
            )
        case is RowDecodingError:
            return KeyStoreError(.storage, reason: "a stored row does not decode", file: file, line: line)
        default:
            return KeyStoreError(.storage, reason: "unexpected \(type(of: error))", file: file, line: line)
        }
    }
}

extension SQLiteKeyStore {
    /// Runs `body` in a write transaction (its own, or a savepoint of a shared one with group
    /// commit) and returns once it is committed, mapping errors.
    func write<T: Sendable>(
        _ meaning: StorageErrorMapping.Meaning = .none,
        file: String = #fileID,
        line: UInt = #line,
        _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        do {
            if let groupCommitter = self.groupCommitter {
                return try await groupCommitter.write(body)
            }
            return try await self.writer.write(body)
        } catch {
            throw StorageErrorMapping.map(error, meaning: meaning, path: self.writer.path, file: file, line: line)
        }
    }

    /// Runs `body` in a read transaction (one consistent snapshot), mapping errors.
    func read<T: Sendable>(
        file: String = #fileID,
        line: UInt = #line,
        _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        do {
            return try await self.writer.read(body)
        } catch {
            throw StorageErrorMapping.map(error, path: self.writer.path, file: file, line: line)
        }
    }
}
