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
import Logging
import PostgresNIO
import Synchronization

extension PostgresKeyStore {
    /// Runs `body` in one transaction (committed before this returns), within the deadline,
    /// mapping errors to ``KeyStoreError``.
    func transaction<T: Sendable>(
        _ meaning: StorageErrorMapping.Meaning = .none,
        readOnlySnapshot: Bool = false,
        file: String = #fileID,
        line: UInt = #line,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await self.call(meaning, file: file, line: line) { [client = self.client, logger] in
            try await client.withConnection { connection in
                try await connection.withTransaction(logger: logger) { connection in
                    if readOnlySnapshot {
                        try await connection.query(
                            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                            logger: logger
                        )
                    }
                    return try await body(connection)
                }
            }
        }
    }

    /// Runs one statement (its own transaction) and returns its rows, within the deadline.
    func rows<T: Sendable>(
        _ query: PostgresQuery,
        _ meaning: StorageErrorMapping.Meaning = .none,
        file: String = #fileID,
        line: UInt = #line,
        decode: @escaping @Sendable (PostgresRow) throws -> T
    ) async throws -> [T] {
        try await self.call(meaning, file: file, line: line) { [client = self.client, logger] in
            var result: [T] = []
            for try await row in try await client.query(query, logger: logger) { result.append(try decode(row)) }
            return result
        }
    }

    /// Runs `body` within ``PostgresStoreConfiguration/operationTimeout``, mapping its errors.
    ///
    /// The work runs in a task of its own, so that a connection that stops answering cannot hold
    /// the caller past the deadline: the caller gets a storage error and the work is cancelled.
    func call<T: Sendable>(
        _ meaning: StorageErrorMapping.Meaning,
        file: String,
        line: UInt,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try Task.checkCancellation()
        let timeout = self.configuration.operationTimeout
        let location = self.configuration.redactedURL
        do {
            return try await Deadline.run(timeout, body)
        } catch is Deadline.Expired {
            await self.lookForAnotherPrimary()
            throw KeyStoreError(
                .unavailable,
                reason: "PostgreSQL at \(location) did not answer within \(timeout)",
                file: file,
                line: line
            )
        } catch {
            let mapped = PostgresErrorMapping.map(error, meaning: meaning, location: location, file: file, line: line)
            if case KeyStoreError.unavailable = mapped { await self.lookForAnotherPrimary() }
            throw mapped
        }
    }

    /// With several servers: after a call found the primary unavailable, probe them (at most once
    /// a second) so that the next calls go to the server that takes writes now (a standby promoted
    /// after the primary failed).
    func lookForAnotherPrimary() async {
        guard self.clients.count > 1 else { return }
        try? await self.findPrimary(force: false)
    }

    /// Asks every server whether it is in recovery and makes the first that is not the primary.
    ///
    /// - Parameter force: Probe even if the last probe was less than a second ago.
    /// - Throws: ``KeyStoreError/unavailable`` when no server answers as a primary.
    func findPrimary(force: Bool) async throws {
        let now = ContinuousClock.now
        let due = self.primary.withLock { state -> Bool in
            if !force, let last = state.probedAt, now - last < .seconds(1) { return false }
            state.probedAt = now
            return true
        }
        guard due else { return }
        var answers: [String] = []
        for (index, server) in self.configuration.hosts.enumerated() {
            let configuration = try self.configuration.connectionConfiguration(server)
            do {
                let writable = try await Deadline.run(self.configuration.connectTimeout) { [logger] in
                    let connection = try await PostgresConnection.connect(
                        configuration: configuration,
                        id: index,
                        logger: logger
                    )
                    defer { Task { try? await connection.close() } }
                    var recovering = true
                    for try await value in try await connection.query(
                        "SELECT pg_is_in_recovery()",
                        logger: logger
                    ).decode(Bool.self) {
                        recovering = value
                    }
                    return !recovering
                }
                if writable {
                    let previous = self.primary.withLock { state in
                        defer { state.index = index }
                        return state.index
                    }
                    if previous != index {
                        self.logger.notice(
                            "PostgreSQL primary is now \(server) (was \(self.configuration.hosts[previous]))"
                        )
                    }
                    return
                }
                answers.append("\(server): a standby")
            } catch is Deadline.Expired {
                answers.append("\(server): no answer within \(self.configuration.connectTimeout)")
            } catch {
                let location = "\(server)"
                let reason =
                    (PostgresErrorMapping.map(error, meaning: .none, location: location, file: #fileID, line: #line)
                    as? KeyStoreError)?.reason
                answers.append(reason ?? "\(server): \(type(of: error))")
            }
        }
        throw KeyStoreError(
            .unavailable,
            reason: "no PostgreSQL server takes writes (\(answers.joined(separator: "; ")))"
        )
    }
}

/// Runs work with a time limit, without waiting for work that ignores cancellation.
enum Deadline {
    struct Expired: Error {}

    static func run<T: Sendable>(
        _ timeout: Duration,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let race = Race<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(continuation)
                let work = Task {
                    do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
                }
                let timer = Task {
                    try? await Task.sleep(for: timeout)
                    if !Task.isCancelled { race.finish(.failure(Expired())) }
                }
                race.attach(work: work, timer: timer)
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    /// The first of the work, the timer and cancellation resumes the caller; the others are
    /// cancelled.
    private final class Race<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<T, any Error>?
            var outcome: Result<T, any Error>?
            var work: Task<Void, Never>?
            var timer: Task<Void, Never>?
        }

        private let state = Mutex(State())

        func start(_ continuation: CheckedContinuation<T, any Error>) {
            let early = self.state.withLock { state -> Result<T, any Error>? in
                if let outcome = state.outcome { return outcome }
                state.continuation = continuation
                return nil
            }
            if let early { continuation.resume(with: early) }
        }

        func attach(work: Task<Void, Never>, timer: Task<Void, Never>) {
            let finished = self.state.withLock { state -> Bool in
                state.work = work
                state.timer = timer
                return state.outcome != nil
            }
            if finished {
                work.cancel()
                timer.cancel()
            }
        }

        func finish(_ outcome: Result<T, any Error>) {
            let (continuation, work, timer) = self.state.withLock {
                state -> (CheckedContinuation<T, any Error>?, Task<Void, Never>?, Task<Void, Never>?) in
                guard state.outcome == nil else { return (nil, nil, nil) }
                state.outcome = outcome
                defer { state.continuation = nil }
                return (state.continuation, state.work, state.timer)
            }
            work?.cancel()
            timer?.cancel()
            continuation?.resume(with: outcome)
        }
    }
}

enum PostgresErrorMapping {
    static func map(
        _ error: any Error,
        meaning: StorageErrorMapping.Meaning,
        location: String,
        file: String,
        line: UInt
    ) -> any Error {
        switch error {
        case let error as KeyStoreError:
            return error
        case let error as CancellationError:
            return error
        case let error as PSQLError:
            return Self.map(error, meaning: meaning, location: location, file: file, line: line)
        case let error as PostgresTransactionError:
            // The body's own error first; then what failed around it.
            guard let cause = error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError else {
                return KeyStoreError(
                    .storage,
                    reason: "PostgreSQL at \(location): a transaction failed",
                    file: file,
                    line: line
                )
            }
            return Self.map(cause, meaning: meaning, location: location, file: file, line: line)
        case let error as PostgresDecodingError:
            return KeyStoreError(
                .storage,
                reason: "a stored row does not decode (column \(error.columnName))",
                file: file,
                line: line
            )
        default:
            // The pool's own errors: closed, or giving up on connections that keep failing.
            return KeyStoreError(
                .unavailable,
                reason: "PostgreSQL at \(location) is unavailable (\(type(of: error)): \(error))",
                file: file,
                line: line
            )
        }
    }

    private static func map(
        _ error: PSQLError,
        meaning: StorageErrorMapping.Meaning,
        location: String,
        file: String,
        line: UInt
    ) -> KeyStoreError {
        if error.code == .server, let state = error.serverInfo?[.sqlState] {
            if state == "23505", let duplicate = meaning.duplicate {
                return KeyStoreError(.alreadyExists, reason: duplicate, file: file, line: line)
            }
            if state == "23503", let missingParent = meaning.missingParent {
                return KeyStoreError(.notFound, reason: missingParent, file: file, line: line)
            }
            // The primary message names the constraint or the condition, never a stored value
            // (values are only in the detail field, which is left out).
            let message = error.serverInfo?[.message].map { ": \($0)" } ?? ""
            let unavailable = state.hasPrefix("08") || state.hasPrefix("57P") || state == "25006" || state == "53300"
            return KeyStoreError(
                unavailable ? .unavailable : .storage,
                reason: "PostgreSQL at \(location) refused (SQLSTATE \(state)\(Self.explain(state)))\(message)",
                file: file,
                line: line
            )
        }
        let cause = error.underlying.map { ": \($0)" } ?? ""
        return KeyStoreError(
            .unavailable,
            reason: "PostgreSQL at \(location) is unavailable (\(error.code))\(cause)",
            file: file,
            line: line
        )
    }

    /// Words for the SQLSTATEs an operator meets.
    private static func explain(_ state: String) -> String {
        switch state {
        case "53100": ", the database's disk is full"
        case "25006": ", the server is a read-only standby"
        case "57P01", "57P02", "57P03": ", the server is shutting down or starting"
        case "28P01", "28000": ", authentication failed"
        case "3D000": ", the database does not exist"
        case "40001", "40P01": ", a concurrent transaction conflicted"
        case "53300": ", too many connections"
        default: state.hasPrefix("08") ? ", the connection failed" : ""
        }
    }
}
#endif
