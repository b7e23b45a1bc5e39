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
import Synchronization

/// A directory under the system's temporary directory that a benchmark's setup creates and its
/// teardown removes, with whatever the setup opened in it.
///
/// Benchmark's teardown hook gets no setup state, so the benchmark keeps one of these, and the
/// objects that must be closed before the directory goes, itself.
///
/// ```swift
/// let scratch = ScratchDirectory(name: "keystore")
/// Benchmark("KeyStore.lookup") { ... } setup: {
///     let path = try scratch.create()
///     let store = try SQLiteKeyStore(path: path + "/keystorm.sqlite")
///     scratch.keep(store)
///     return store
/// } teardown: {
///     scratch.remove()
/// }
/// ```
public final class ScratchDirectory: Sendable {
    private struct State {
        var path: String?
        var kept: [any Sendable] = []
    }

    private let name: String
    private let state = Mutex(State())

    /// - Parameter name: Part of the directory's name, to tell benchmarks' leftovers apart.
    public init(name: String) {
        self.name = name
    }

    /// Creates a new, empty directory and returns its path.
    ///
    /// - Throws: When the directory cannot be created.
    public func create() throws -> String {
        let path = NSTemporaryDirectory() + "keystorm-bench-\(self.name)-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        self.state.withLock { $0.path = path }
        return path
    }

    /// Keeps `object` alive until ``remove()`` (a store, a server).
    public func keep(_ object: any Sendable) {
        self.state.withLock { $0.kept.append(object) }
    }

    /// Releases the kept objects, then removes the directory and everything in it.
    public func remove() {
        // Dropping the state releases the kept objects (closing their files) before the removal.
        let path = self.state.withLock { state in
            defer { state = State() }
            return state.path
        }
        if let path { try? FileManager.default.removeItem(atPath: path) }
    }
}
