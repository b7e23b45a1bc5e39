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

/// Where the Local provider keeps its sealed root-key set (sealed under the master key: the
/// storage never sees a root key in the clear).
///
/// One node keeps it in the data directory (`rootkeys.sealed`, the default). Nodes that share a
/// PostgreSQL store keep it in the store, so that every node holds the same root keys and sees a
/// rotation or a deletion made by another.
public protocol LocalSealedKeyStorage: Sendable {
    /// What the storage is, for error messages: "/data/rootkeys.sealed", "the shared store".
    var location: String { get }

    /// The sealed set as stored now; `nil` when none was stored yet.
    func read() async throws -> [UInt8]?

    /// Under a lock that every process and node sharing the storage honours: reads the sealed
    /// set, passes it to `change`, and stores the bytes `change` returns, durably and atomically,
    /// before returning `change`'s result. Nothing is stored when `change` throws.
    func update<Result: Sendable>(
        _ change: @escaping @Sendable ([UInt8]?) throws -> (sealed: [UInt8], result: Result)
    ) async throws -> Result
}

/// The data directory's `rootkeys.sealed`, changed under an exclusive lock on `rootkeys.lock`
/// (the `keystorm` CLI and a running server may share the directory) and written atomically
/// (temporary file, fsync, rename, fsync of the directory). Its file work runs on a serial I/O
/// queue, never on the cooperative pool.
struct LocalSealedKeyFileStorage: LocalSealedKeyStorage {
    let directory: String
    private let io = SerialIOQueue(label: "keystorm.rootkeys.local")

    init(directory: String) {
        self.directory = directory
    }

    var location: String { self.path(LocalSealedKeyFile.fileName) }

    func read() async throws -> [UInt8]? {
        let path = self.location
        let directory = self.directory
        return try await self.io.run {
            try FileSystem.createDirectory(directory)
            return try FileSystem.readFile(at: path)?.bytes
        }
    }

    func update<Result: Sendable>(
        _ change: @escaping @Sendable ([UInt8]?) throws -> (sealed: [UInt8], result: Result)
    ) async throws -> Result {
        let path = self.location
        let lock = self.path(LocalRootKeyService.lockFileName)
        return try await self.io.run {
            try FileSystem.withExclusiveLock(at: lock) {
                let (sealed, result) = try change(try FileSystem.readFile(at: path)?.bytes)
                try sealed.withUnsafeBytes { try FileSystem.writeAtomically($0, to: path, mode: 0o600) }
                return result
            }
        }
    }

    private func path(_ name: String) -> String {
        self.directory.hasSuffix("/") ? self.directory + name : self.directory + "/" + name
    }
}
