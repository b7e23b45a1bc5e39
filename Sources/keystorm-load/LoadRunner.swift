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

import KMIPModel
import Synchronization

/// One operation a simulated client runs.
enum LoadStep: Hashable, Sendable {
    case get(String)
    case create
    /// Activate the key the session's last Create made.
    case activateCreated
    case getState(String)

    var name: String {
        switch self {
        case .get: "Get"
        case .create: "Create"
        case .activateCreated: "Activate"
        case .getState: "GetAttributes"
        }
    }
}

/// Runs sessions of steps with `concurrency` workers until the count or the deadline is reached.
///
/// A session is what one client does in a row, e.g. one host of a boot storm getting its keys.
/// With persistent connections each worker keeps one connection and runs session after session
/// on it (a new connection only after a broken one); with a connection per operation every step
/// opens, uses and closes its own connection.
/// Each step claims one unit of `limit` first, so exactly `limit` steps run when nothing else
/// stops the run.
struct LoadRunner: Sendable {
    var client: KMIPClient
    var connectionPerOperation: Bool
    var concurrency: Int
    /// Steps in all, or `nil` for no limit (then `deadline` must be set).
    var limit: Int?
    var deadline: ContinuousClock.Instant?
    /// The steps of session number `index` (0, 1, 2, ...).
    var session: @Sendable (Int) -> [LoadStep]
    /// Where the keys of successful Creates are listed (`--created-file`).
    var createdLog: CreatedKeyLog?

    /// A failure already counted by the recorder, ending a persistent connection.
    private struct Counted: Error {}

    private final class Counters: Sendable {
        let steps = Atomic<Int>(0)
        let sessions = Atomic<Int>(0)
        let stopped = Atomic<Bool>(false)
    }

    func run(into recorder: LoadRecorder) async {
        let counters = Counters()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<self.concurrency {
                group.addTask {
                    if self.connectionPerOperation {
                        while !counters.stopped.load(ordering: .relaxed) {
                            let index = counters.sessions.add(1, ordering: .relaxed).oldValue
                            await self.runSessionWithConnectionPerStep(
                                self.session(index),
                                counters: counters,
                                recorder: recorder
                            )
                        }
                    } else {
                        await self.runPersistentWorker(counters: counters, recorder: recorder)
                    }
                }
            }
        }
    }

    /// Takes one unit of the limit; `false` (and the run stops) when the count or time is up.
    private func claim(_ counters: Counters) -> Bool {
        if counters.stopped.load(ordering: .relaxed) { return false }
        if let deadline = self.deadline, ContinuousClock.now >= deadline {
            counters.stopped.store(true, ordering: .relaxed)
            return false
        }
        if let limit = self.limit, counters.steps.add(1, ordering: .relaxed).newValue > limit {
            counters.stopped.store(true, ordering: .relaxed)
            return false
        }
        return true
    }

    /// One session, every step on a connection of its own (vCenter's pattern).
    private func runSessionWithConnectionPerStep(
        _ steps: [LoadStep],
        counters: Counters,
        recorder: LoadRecorder
    ) async {
        var created: String?
        for step in steps {
            guard self.claim(counters) else { return }
            let start = ContinuousClock.now
            do {
                let (uid, operation) = try await self.client.withConnection { connection in
                    recorder.recordConnection(connection.timings)
                    return try await Self.perform(step, on: connection, created: created)
                }
                if let uid {
                    created = uid
                    self.createdLog?.append(uid)
                }
                recorder.recordSuccess(step.name, operation: operation, total: .now - start)
            } catch {
                recorder.recordFailure(Self.failure(error), total: .now - start)
            }
        }
    }

    /// One worker over one persistent connection: session after session on the same connection,
    /// a new connection only after a broken one.
    private func runPersistentWorker(counters: Counters, recorder: LoadRecorder) async {
        var steps: [LoadStep] = []
        var next = 0
        var created: String?
        var claimed = false
        /// Moves to the next session when this one is done; `false` when the run has stopped.
        func nextSession() -> Bool {
            while next == steps.count {
                if counters.stopped.load(ordering: .relaxed) { return false }
                steps = self.session(counters.sessions.add(1, ordering: .relaxed).oldValue)
                next = 0
                created = nil
            }
            return true
        }
        while nextSession() {
            if !claimed {
                guard self.claim(counters) else { return }
                claimed = true
            }
            let opening = ContinuousClock.now
            do {
                try await self.client.withConnection { connection in
                    recorder.recordConnection(connection.timings)
                    while nextSession() {
                        if !claimed {
                            guard self.claim(counters) else { return }
                        }
                        claimed = false
                        let step = steps[next]
                        next += 1
                        let start = ContinuousClock.now
                        do {
                            let (uid, operation) = try await Self.perform(step, on: connection, created: created)
                            if let uid {
                                created = uid
                                self.createdLog?.append(uid)
                            }
                            recorder.recordSuccess(step.name, operation: operation, total: operation)
                        } catch {
                            let failure = Self.failure(error)
                            recorder.recordFailure(failure, total: .now - start)
                            if case .kmip = failure.kind { continue }
                            throw Counted()
                        }
                    }
                }
                return
            } catch is Counted {
                continue
            } catch {
                // The connection could not be opened: the claimed step fails.
                next += 1
                claimed = false
                recorder.recordFailure(Self.failure(error), total: .now - opening)
            }
        }
    }

    /// Runs one step; returns the new key's identifier for a Create and the request's latency.
    private static func perform(
        _ step: LoadStep,
        on connection: KMIPConnection,
        created: String?
    ) async throws -> (String?, Duration) {
        let start = ContinuousClock.now
        switch step {
        case .get(let uid):
            _ = try await connection.call(VCenterRequests.get(uid))
            return (nil, .now - start)
        case .getState(let uid):
            _ = try await connection.call(VCenterRequests.getState(uid))
            return (nil, .now - start)
        case .create:
            let payload = try await connection.call(VCenterRequests.createAES256())
            guard case .create(let response) = payload, let uid = response.uniqueIdentifier.text else {
                throw LoadFailure(.protocol, "a Create response without a text Unique Identifier")
            }
            return (uid, .now - start)
        case .activateCreated:
            guard let created else { throw LoadFailure(.protocol, "Activate without a key created before it") }
            _ = try await connection.call(VCenterRequests.activate(created))
            return (nil, .now - start)
        }
    }

    static func failure(_ error: any Error) -> LoadFailure {
        if let failure = error as? LoadFailure { return failure }
        return LoadFailure(.io, "\(error)")
    }
}
