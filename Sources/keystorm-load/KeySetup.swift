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
import KMIPModel
import NIOPosix
import Synchronization

/// The keys a run works on: created here (Create, then Activate, as vCenter does) or read from a
/// `--uids-file`, one Unique Identifier a line.
enum KeySetup {
    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    /// A failed call, already counted, that ends its connection.
    private struct Counted: Error {}

    /// `count` keys: those of `uidsFile` first, then new ones, which are appended to `uidsFile`.
    ///
    /// - Returns: the identifiers, how many were created, and the seconds the creation took.
    static func keys(
        _ count: Int,
        uidsFile: String?,
        client: KMIPClient,
        concurrency: Int
    ) async throws -> (uids: [String], created: Int, seconds: Double) {
        var uids: [String] = []
        if let uidsFile {
            uids = try await Self.read(uidsFile)
        }
        if uids.count >= count { return (Array(uids.prefix(count)), 0, 0) }
        let missing = count - uids.count
        let start = ContinuousClock.now
        let created = try await Self.create(missing, client: client, concurrency: concurrency)
        let seconds = (ContinuousClock.now - start).seconds
        if let uidsFile { try await Self.write(uids + created, to: uidsFile) }
        return (uids + created, created.count, seconds)
    }

    /// Creates and activates `count` AES-256 keys over persistent connections.
    ///
    /// - Throws: ``Failed`` when more than a tenth of the attempts (at least 10) fail.
    static func create(_ count: Int, client: KMIPClient, concurrency: Int) async throws -> [String] {
        let progress = CreateProgress(count: count, budget: max(10, count / 10))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, min(concurrency, count)) {
                group.addTask {
                    while progress.claim() {
                        do {
                            try await client.withConnection { connection in
                                var first = true
                                while first || progress.claim() {
                                    first = false
                                    do {
                                        let payload = try await connection.call(VCenterRequests.createAES256())
                                        guard case .create(let response) = payload,
                                            let uid = response.uniqueIdentifier.text
                                        else {
                                            throw LoadFailure(
                                                .protocol,
                                                "a Create response without a text Unique Identifier"
                                            )
                                        }
                                        _ = try await connection.call(VCenterRequests.activate(uid))
                                        progress.created(uid)
                                    } catch {
                                        progress.failed(error)
                                        throw Counted()
                                    }
                                }
                            }
                        } catch is Counted {
                            continue
                        } catch {
                            progress.failed(error)  // the connection could not be opened
                        }
                    }
                }
            }
        }
        let result = progress.result()
        guard result.uids.count == count else {
            throw Failed(
                description: "setup created \(result.uids.count) of \(count) keys; \(result.failures) failures, "
                    + "the last: \(result.lastFailure)"
            )
        }
        return result.uids
    }

    /// The keys created so far, shared by the setup's workers.
    private final class CreateProgress: Sendable {
        struct State {
            var uids: [String] = []
            var claimed = 0
            var failures = 0
            var lastFailure = ""
        }

        let count: Int
        let budget: Int
        private let state = Mutex(State())

        init(count: Int, budget: Int) {
            self.count = count
            self.budget = budget
        }

        /// Takes one key to create; `false` when all are taken or the failures are over budget.
        func claim() -> Bool {
            self.state.withLock { state in
                guard state.claimed < self.count, state.failures <= self.budget else { return false }
                state.claimed += 1
                return true
            }
        }

        func created(_ uid: String) {
            self.state.withLock { $0.uids.append(uid) }
        }

        /// Gives the claimed key back and counts the failure.
        func failed(_ error: any Error) {
            self.state.withLock { state in
                state.failures += 1
                state.claimed -= 1
                state.lastFailure = "\(error)"
            }
        }

        func result() -> State {
            self.state.withLock { $0 }
        }
    }

    static func read(_ path: String) async throws -> [String] {
        try await NIOThreadPool.singleton.runIfActive {
            guard FileManager.default.fileExists(atPath: path) else { return [] }
            let text = try String(contentsOfFile: path, encoding: .utf8)
            return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        }
    }

    static func write(_ uids: [String], to path: String) async throws {
        try await NIOThreadPool.singleton.runIfActive {
            try Data((uids.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
    }
}
