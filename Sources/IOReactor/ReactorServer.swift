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

internal import CKeystorm
internal import Glibc
internal import Synchronization

/// A TCP (normally mutual-TLS) server over ``ReactorLoop``s: one loop per core, each with its own
/// `SO_REUSEPORT` listener, and one structured child task per connection that runs on the loop.
///
/// ```swift
/// var configuration = ReactorConfiguration()
/// configuration.port = 5696
/// configuration.tls = try TLSServerContext(configuration: tlsConfiguration)
/// let server = try await ReactorServer(configuration: configuration)
/// try await server.run { connection in
///     // runs on the connection's loop thread, after a successful handshake
/// }
/// // elsewhere: server.shutdown(gracePeriod: .seconds(10))
/// ```
///
/// ``run(handler:)`` returns once every loop stopped accepting and every handler finished, i.e.
/// after ``shutdown(gracePeriod:)``. A server runs once.
public final class ReactorServer: Sendable {
    /// A loop's server-side state: its acceptor and live connections. Loop thread only.
    final class LoopState: @unchecked Sendable {
        var acceptor: Acceptor!
        var connections: [ObjectIdentifier: ConnectionCore] = [:] {
            didSet { if self.connections.isEmpty { self.resumeDrainWaiter() } }
        }
        /// Connections in their handshake, silent and talking, oldest first.
        var handshakes = HandshakeQueues()
        var draining = false
        var deadlinePassed = false
        private var drainWaiter: UnsafeContinuation<Void, Never>?

        /// Waits until every connection closed or the shutdown deadline passed.
        nonisolated(nonsending) func waitForDrain() async {
            guard !self.connections.isEmpty && !self.deadlinePassed else { return }
            await withUnsafeContinuation { self.drainWaiter = $0 }
        }

        func resumeDrainWaiter() {
            if let waiter = self.drainWaiter {
                self.drainWaiter = nil
                waiter.resume()
            }
        }
    }

    /// The event loops, in index order.
    public let loops: [ReactorLoop]
    /// The port the listeners are bound to.
    public let port: Int
    /// The backend the loops use.
    public let backend: IOBackendKind
    private let configuration: ReactorConfiguration
    private let listeners: [Int32]
    private let states: [LoopState]
    private let active = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)
    private let started = Atomic<Bool>(false)
    private let counters = ReactorCounters()
    private let sources = SourceTable()
    private let trimmer: MemoryTrimmer

    /// Starts the loops (each creates its ring on its own thread) and binds the listeners.
    /// - Parameter configuration: Address, loops, backend, TLS and limits.
    /// - Throws: ``IOReactorError`` when a loop or listener cannot be set up, or io_uring is
    ///   unavailable and ``ReactorConfiguration/ioBackend`` is ``IOBackendKind/uring``.
    public init(configuration: ReactorConfiguration) async throws {
        guard configuration.loopCount > 0 else {
            throw IOReactorError(.invalidArgument, reason: "loopCount must be positive")
        }
        var loops: [ReactorLoop] = []
        var kinds: [IOBackendKind] = []
        do {
            for index in 0..<configuration.loopCount {
                let loop = try ReactorLoop(index: index)
                let kind = try await withCheckedThrowingContinuation { continuation in
                    do {
                        try loop.start(
                            kind: configuration.ioBackend,
                            ringEntries: UInt32(clamping: configuration.ringEntries),
                            simulateUringFailure: configuration.simulateUringFailure,
                            log: configuration.log
                        ) { result in continuation.resume(with: result) }
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                loops.append(loop)
                kinds.append(kind)
            }
        } catch {
            for loop in loops { loop.stop() }
            throw error
        }
        // SO_REUSEPORT lets every loop have its own listener, but it would also let a second
        // server of the same user bind the same port and silently take half of the connections.
        // A probe without SO_REUSEPORT fails while any listener holds the port.
        if configuration.port != 0 {
            let probe = CKeystorm_listen(configuration.host, Int32(configuration.port), 1, 0, 1)
            if probe < 0 {
                let error = Glibc.errno
                for loop in loops { loop.stop() }
                throw IOReactorError(
                    .systemCall,
                    errno: error,
                    reason: "listen on \(configuration.host):\(configuration.port): \(errnoDescription(error))"
                        + (error == EADDRINUSE
                            ? " (another process, perhaps another keystorm, is listening there)" : "")
                )
            }
            _ = Glibc.close(probe)
        }
        var listeners: [Int32] = []
        var port = configuration.port
        for kind in kinds {
            let fd = CKeystorm_listen(
                configuration.host,
                Int32(port),
                Int32(clamping: configuration.backlog),
                1,
                kind == .epoll ? 1 : 0
            )
            if fd < 0 {
                let error = Glibc.errno
                for listener in listeners { _ = Glibc.close(listener) }
                for loop in loops { loop.stop() }
                throw IOReactorError(
                    .systemCall,
                    errno: error,
                    reason: "listen on \(configuration.host):\(port): \(errnoDescription(error))"
                )
            }
            if port == 0 { port = Int(CKeystorm_local_port(fd)) }
            listeners.append(fd)
        }
        self.loops = loops
        self.listeners = listeners
        self.port = port
        self.backend = kinds[0]
        self.configuration = configuration
        self.trimmer = MemoryTrimmer(threshold: configuration.memoryTrimThreshold)
        self.states = loops.map { _ in LoopState() }
        configuration.log(
            "listening on \(configuration.host):\(port) with \(loops.count) \(kinds[0]) loop(s)"
                + (configuration.tls == nil ? " (plain TCP)" : " (mutual TLS)")
        )
    }

    deinit {
        if !self.started.load(ordering: .relaxed) {
            for listener in self.listeners { _ = Glibc.close(listener) }
        }
        for loop in self.loops { loop.stop() }
    }

    /// Connections currently open (handshaking or being served).
    public var activeConnections: Int { self.active.load(ordering: .relaxed) }

    /// Connections closed at accept because ``ReactorConfiguration/maxConnections`` was reached.
    public var refusedConnections: Int { self.refused.load(ordering: .relaxed) }

    /// The accept and handshake counters now, for metrics.
    public var statistics: ReactorStatistics {
        var statistics = self.counters.snapshot(refused: self.refusedConnections, active: self.activeConnections)
        statistics.memoryTrims = self.trimmer.trims
        return statistics
    }

    /// Each loop's share of ``ReactorConfiguration/maxHandshakingConnections``.
    private var handshakeShare: Int {
        let loops = max(1, self.loops.count)
        return max(1, (max(1, self.configuration.maxHandshakingConnections) + loops - 1) / loops)
    }

    /// Accepts and serves connections until ``shutdown(gracePeriod:)``.
    ///
    /// Each accepted connection runs as a child task with the loop as its executor preference: it
    /// does the TLS handshake (within the handshake timeout), then calls `handler`, then closes the
    /// connection (close_notify, flush). A handler's error closes only its connection. Cancelling
    /// the calling task is a shutdown with no grace period.
    /// - Parameter handler: Serves one connection; runs on the connection's loop thread.
    public func run(handler: @escaping @Sendable (sending ReactorConnection) async throws -> Void) async throws {
        guard !self.started.exchange(true, ordering: .relaxed) else {
            throw IOReactorError(.invalidArgument, reason: "a ReactorServer runs once")
        }
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                for index in self.loops.indices {
                    group.addTask(executorPreference: self.loops[index]) {
                        await self.acceptLoop(index, handler: handler)
                    }
                }
            }
        } onCancel: {
            self.shutdown(gracePeriod: .zero)
        }
        for loop in self.loops { loop.stop() }
    }

    /// One loop's accept loop: a structured child task per connection, all on this loop.
    private func acceptLoop(
        _ index: Int,
        handler: @escaping @Sendable (sending ReactorConnection) async throws -> Void
    ) async {
        let loop = self.loops[index]
        let state = self.states[index]
        precondition(loop.inEventLoop, "the accept loop must run on its loop")
        let acceptor = Acceptor(loop: loop, listener: self.listeners[index], log: self.configuration.log)
        state.acceptor = acceptor
        acceptor.start()
        if state.draining { acceptor.stop() }
        let limits = self.configuration.limits
        var pressedLimits = limits
        pressedLimits.handshakeTimeout = min(
            limits.handshakeTimeout,
            self.configuration.handshakeTimeoutUnderPressure.nanoseconds
        )
        let tls = self.configuration.tls
        let maxConnections = self.configuration.maxConnections
        let share = self.handshakeShare
        let perSource = max(1, self.configuration.maxHandshakesPerSource)
        await withDiscardingTaskGroup { group in
            while let fd = await acceptor.next() {
                // Unauthenticated connections of one source hold at most `perSource` handshakes.
                let source = SourceKey(fd: fd)
                var known = false
                if let source {
                    guard case .admitted(let isKnown) = self.sources.admit(source, limit: perSource) else {
                        self.counters.refusedPerSource.add(1, ordering: .relaxed)
                        _ = Glibc.close(fd)
                        continue
                    }
                    known = isKnown
                }
                // At the connection limit or with the loop's handshake share full, a handshaking
                // connection of this loop makes room (the oldest that sent nothing, else one of
                // the busiest source among the oldest); an authenticated one never does.
                var evict = state.handshakes.count >= share
                if self.active.add(1, ordering: .relaxed).newValue > maxConnections {
                    if state.handshakes.evictionCandidate == nil {
                        self.active.subtract(1, ordering: .relaxed)
                        self.refused.add(1, ordering: .relaxed)
                        if let source { self.sources.release(source) }
                        _ = Glibc.close(fd)
                        continue
                    }
                    evict = true
                }
                if evict, let victim = state.handshakes.evictionCandidate(weighing: self.sources) {
                    state.handshakes.remove(victim)
                    // An evicted connection stops counting against the limit now, not when its
                    // task gets to close it: under load this loop may accept many connections
                    // before the victims' tasks run, and the other loops must not refuse meanwhile.
                    if victim.evict() {
                        victim.releasedConnectionSlot = true
                        self.active.subtract(1, ordering: .relaxed)
                    }
                    self.counters.evicted.add(1, ordering: .relaxed)
                }
                self.counters.accepted.add(1, ordering: .relaxed)
                let underPressure = state.handshakes.count * 2 >= share
                let core = ConnectionCore(loop: loop, fd: fd, limits: underPressure ? pressedLimits : limits, tls: tls)
                core.source = source
                core.fromKnownSource = known
                state.handshakes.append(core)
                core.onFirstBytes = { [unowned core] in state.handshakes.promote(core) }
                state.connections[ObjectIdentifier(core)] = core
                if state.draining { core.beginDrain() }
                // Over TLS, a connection from a source that has not completed a handshake lately
                // runs at low priority until its own handshake succeeds: the loop runs its work
                // after the known sources' (see SourceTable and ReactorLoop.runJobs).
                core.lowPriority = tls != nil && !known
                if core.lowPriority { self.counters.lowPriorityConnections.add(1, ordering: .relaxed) }
                loop.enqueueing(atLowPriority: core.lowPriority) {
                    group.addTask {
                        await self.serve(core, state: state, handler: handler)
                    }
                }
            }
            // Accepting stopped (shutdown): give handlers the grace period, then cancel them.
            await state.waitForDrain()
            if !state.connections.isEmpty {
                group.cancelAll()
                for connection in state.connections.values { connection.forceClose() }
            }
        }
    }

    private func serve(
        _ core: ConnectionCore,
        state: LoopState,
        handler: @Sendable (sending ReactorConnection) async throws -> Void
    ) async {
        // One cancellation record for the connection's own task covers all of its reads, instead
        // of one record per read (which the profile showed at ~2% of server time).
        await withTaskCancellationHandler {
            withUnsafeCurrentTask { core.servingTask = $0 }
            do {
                do {
                    try await core.handshake()
                    core.lowPriority = false
                    if core.tls != nil, let source = core.source { self.sources.authenticated(source) }
                    self.handshakeEnded(core, state: state)
                    self.counters.handshakeSucceeded(resumed: core.tls?.sessionReused ?? false)
                } catch {
                    self.handshakeEnded(core, state: state)
                    if !core.evicted { self.counters.handshakeFailed(error) }
                    throw error
                }
                try await handler(ReactorConnection(core: core))
            } catch {
                // The connection ends; others are unaffected. Handshake refusals are routine.
            }
            core.servingTask = nil
        } onCancel: {
            core.loop.execute { core.servingTaskCancelled() }
        }
        await core.close()
        state.connections[ObjectIdentifier(core)] = nil
        let open =
            core.releasedConnectionSlot
            ? self.active.load(ordering: .relaxed) : self.active.subtract(1, ordering: .relaxed).newValue
        self.trimmer.connectionClosed(open: open, loop: core.loop) { self.activeConnections }
    }

    /// The connection left its handshake: it no longer counts against the handshake budget or its
    /// source's limit.
    private func handshakeEnded(_ core: ConnectionCore, state: LoopState) {
        state.handshakes.remove(core)
        if let source = core.source {
            core.source = nil
            self.sources.release(source)
        }
    }

    /// Begins a graceful shutdown: stop accepting, let handlers finish their current request
    /// (reads that would wait return end-of-stream), and after `gracePeriod` cancel the handlers
    /// still running and close their connections (their I/O fails with ``IOReactorError/shutdown``).
    /// Returns at once; ``run(handler:)`` returns when everything is closed.
    /// - Parameter gracePeriod: How long in-flight handlers may take.
    public func shutdown(gracePeriod: Duration = .seconds(10)) {
        let grace = gracePeriod.nanoseconds
        for (index, loop) in self.loops.enumerated() {
            let state = self.states[index]
            loop.execute {
                guard !state.draining else { return }
                state.draining = true
                state.acceptor?.stop()
                for connection in state.connections.values { connection.beginDrain() }
                _ = loop.schedule(afterNanoseconds: grace) {
                    state.deadlinePassed = true
                    state.resumeDrainWaiter()
                }
            }
        }
    }
}
