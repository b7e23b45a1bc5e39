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
import ServiceLifecycle
import Synchronization

/// One long-running part of `keystorm serve` under the name its log lines and errors use.
///
/// An error the body throws comes out of the service group as a ``ServeServiceFailure`` naming
/// the service, so the process's last log line says which part stopped it and why.
struct NamedService: Service, CustomStringConvertible {
    let name: String
    let body: @Sendable () async throws -> Void

    init(_ name: String, _ body: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.body = body
    }

    var description: String { self.name }

    func run() async throws {
        do {
            try await self.body()
        } catch let error as ServeServiceFailure {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ServeServiceFailure(service: self.name, underlying: error)
        }
    }

    /// A service that runs `tick` every `interval` until graceful shutdown; a tick in progress
    /// is cancelled then (every tick is safe to stop: the next start does it again).
    static func every(
        _ name: String,
        _ interval: Duration,
        _ tick: @escaping @Sendable () async -> Void
    ) -> NamedService {
        NamedService(name) {
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if Task.isCancelled { break }
                    await tick()
                }
            }
        }
    }
}

/// A service of `keystorm serve` threw: the process stops, non-zero.
struct ServeServiceFailure: Error, CustomStringConvertible {
    var service: String
    var underlying: any Error

    var description: String {
        // A listener error names its listener already.
        if let error = self.underlying as? ListenerError { return error.description }
        return "\(self.service): \(ServeErrorText.describe(self.underlying))"
    }
}

/// The KMIP listener as a service: runs the reactor; on graceful shutdown it stops accepting (the
/// listeners close, so new connections are refused) and lets in-flight operations finish within
/// the grace period, then closes what is left.
struct ReactorService: Service, CustomStringConvertible {
    let server: ReactorServer
    let gracePeriod: Duration
    let handler: @Sendable (sending ReactorConnection) async throws -> Void

    var description: String { "KMIP listener" }

    func run() async throws {
        let server = self.server
        let grace = self.gracePeriod
        try await withGracefulShutdownHandler {
            try await server.run(handler: self.handler)
        } onGracefulShutdown: {
            Log.notice("shutting down: KMIP listener closed, draining open connections (up to \(grace))")
            server.shutdown(gracePeriod: grace)
        }
        Log.info("KMIP listener stopped: every connection is closed")
    }
}

/// The audit log in front of the server core: counts the writes in flight so that shutdown can
/// wait for the last one (every acknowledged operation's line is on disk before the process exits).
final class DrainedAuditSink: AuditSink {
    private struct State {
        var inFlight = 0
        var recorded = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    let file: AuditLogFile
    private let state = Mutex(State())

    init(_ file: AuditLogFile) {
        self.file = file
    }

    func record(_ events: [AuditEvent]) async throws {
        self.state.withLock { $0.inFlight += 1 }
        defer {
            let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.inFlight -= 1
                state.recorded += events.count
                guard state.inFlight == 0 else { return [] }
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        try await self.file.record(events)
    }

    /// Waits until no write is in flight; returns how many events this process recorded.
    func drain() async -> Int {
        await withCheckedContinuation { continuation in
            let done = self.state.withLock { state -> Bool in
                if state.inFlight == 0 { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
        return self.state.withLock { $0.recorded }
    }

    /// The service that closes the audit log: started first, so stopped last, after the KMIP
    /// listener drained; it waits for the writes still in flight.
    var service: NamedService {
        NamedService("audit log") {
            try? await gracefulShutdown()
            let recorded = await self.drain()
            Log.notice("audit log flushed: \(recorded) operation(s) recorded since the start, all on disk")
        }
    }
}
