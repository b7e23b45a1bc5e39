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

/// Per-connection limits, in loop units (nanoseconds, bytes).
struct ConnectionLimits {
    var handshakeTimeout: Int64
    var idleTimeout: Int64
    var maxBufferedBytes: Int
    var receiveBufferSize: Int
}

/// The socket side of one connection: its two I/O operations, its buffers, its timers and its
/// lifecycle. Confined to its loop thread (hence `@unchecked Sendable`: only the cancellation
/// handlers cross threads, and they hop to the loop through ``ReactorLoop/execute(_:)``).
///
/// Lifecycle: `open` → (`draining`) → `closing` → `closed`. Every completion holds the core alive:
/// the operations' handlers capture it strongly until ``finishClose()`` breaks the cycle, after the
/// last completion, so the kernel never writes into freed memory.
final class ConnectionCore: @unchecked Sendable {
    enum State {
        case open
        case draining
        case closing
        case closed
    }

    /// Why the core cancelled its own receive or send.
    enum CancelReason {
        case timeout
        case drain
        case shutdown
        case task
    }

    let loop: ReactorLoop
    let fd: Int32
    let limits: ConnectionLimits
    let tlsContext: TLSServerContext?
    var tls: TLSSession?
    var state = State.open
    /// A sticky failure: once set, reads and writes throw it.
    var failure: IOReactorError?
    var cancelReason: CancelReason?
    var handshakeDone = false
    var peerCertificate: PeerCertificate?
    var protocolVersion: String?
    private(set) var remoteAddress = ""
    /// The peer's source while it counts against the per-source handshake limit.
    var source: SourceKey?
    /// The source had completed a mutual-TLS handshake recently when this connection was accepted.
    var fromKnownSource = false
    /// The loop runs the work of this connection's I/O completions at low priority (see
    /// ``ReactorLoop/enqueueing(atLowPriority:_:)``): over TLS, from an unknown source, until its
    /// handshake succeeds.
    var lowPriority = false
    /// Links of the loop's ``HandshakeQueue``s: the queue the core is in (0: none) and its neighbours.
    var handshakeQueueTag: UInt8 = 0
    var handshakeNewer: ConnectionCore?
    unowned(unsafe) var handshakeOlder: ConnectionCore?
    /// `true` once the core was evicted from a full handshake budget.
    private(set) var evicted = false
    /// `true` once the server stopped counting the core against its connection limit (at eviction).
    var releasedConnectionSlot = false
    /// Called once, when the first bytes of a TLS connection arrive.
    var onFirstBytes: (() -> Void)?

    /// Deadlines (monotonic nanoseconds) served by one timer.
    var handshakeDeadline: Int64?
    var readDeadline: Int64?
    var writeDeadline: Int64?
    private var timer: LoopTimer?
    private var timerDeadline: Int64?

    let receiveOp = IOOperation(.receive)
    let sendOp = IOOperation(.send)
    private var receiveWaiter: UnsafeContinuation<Int32, Never>?
    private var progressWaiters: [UnsafeContinuation<Void, Never>] = []
    /// Plain-text mode: bytes being sent (owned until the send completes) and bytes queued behind.
    private var sending = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var sendingOffset = 0
    private var queued: [UInt8] = []
    /// Scratch for ``ReactorConnection/receive(maxBytes:)``.
    var scratch = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    init(loop: ReactorLoop, fd: Int32, limits: ConnectionLimits, tls: TLSServerContext?) {
        self.loop = loop
        self.fd = fd
        self.limits = limits
        self.tlsContext = tls
        self.receiveOp.fd = fd
        self.sendOp.fd = fd
        self.receiveOp.onComplete = { result, _ in
            self.loop.enqueueing(atLowPriority: self.lowPriority) { self.receiveCompleted(result) }
        }
        self.sendOp.onComplete = { result, _ in
            self.loop.enqueueing(atLowPriority: self.lowPriority) { self.sendCompleted(result) }
        }
        var text = [CChar](repeating: 0, count: 64)
        if CKeystorm_peer_address(fd, &text, text.count) == 0 {
            self.remoteAddress = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        _ = CKeystorm_set_nodelay(fd)
    }

    // MARK: Receiving

    /// Receives into `buffer`, waiting at most `timeout` nanoseconds (`nil`: no timer).
    /// - Returns: The byte count (0 at end of stream) or `-errno` (`-ECANCELED` after a cancel).
    nonisolated(nonsending) func receive(into buffer: UnsafeMutableRawBufferPointer, timeout: Int64?) async -> Int32 {
        precondition(self.receiveWaiter == nil && !self.receiveOp.inFlight, "two concurrent reads")
        self.receiveOp.buffer = buffer.baseAddress
        self.receiveOp.length = buffer.count
        do {
            try self.loop.backend.receive(self.receiveOp)
        } catch {
            return -(error.errno == 0 ? EIO : error.errno)
        }
        let generation = self.receiveOp.generation
        if let timeout { self.setDeadline(.read, after: timeout) }
        defer { self.readDeadline = nil }
        if self.isServingTask {
            // The server's cancellation handler for this task covers the read.
            if Task.isCancelled { self.cancelOperations(.task, send: false) }
            return await withUnsafeContinuation { continuation in
                if self.receiveOp.inFlight {
                    self.receiveWaiter = continuation
                } else {
                    continuation.resume(returning: self.lastReceiveResult)
                }
            }
        }
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                if self.receiveOp.inFlight {
                    self.receiveWaiter = continuation
                } else {
                    continuation.resume(returning: self.lastReceiveResult)
                }
            }
        } onCancel: {
            self.loop.execute {
                guard self.receiveOp.inFlight, self.receiveOp.generation == generation else { return }
                self.cancelOperations(.task, send: false)
            }
        }
    }

    private var lastReceiveResult: Int32 = 0

    /// The task ``ReactorServer`` serves this connection in; its cancellation is handled once, in
    /// ``servingTaskCancelled()``, so reads from it need no cancellation record of their own.
    /// Only compared for identity, and cleared before that task ends.
    var servingTask: UnsafeCurrentTask?

    /// `true` when the caller is the serving task.
    private var isServingTask: Bool {
        guard let servingTask = self.servingTask else { return false }
        return withUnsafeCurrentTask { $0 == servingTask }
    }

    /// The serving task was cancelled: end its read in flight (later reads see `Task.isCancelled`).
    func servingTaskCancelled() {
        if self.receiveOp.inFlight { self.cancelOperations(.task, send: false) }
    }

    private func receiveCompleted(_ result: Int32) {
        self.lastReceiveResult = result
        if let waiter = self.receiveWaiter {
            self.receiveWaiter = nil
            waiter.resume(returning: result)
        }
        self.resumeProgressWaiters()
    }

    /// Turns a negative receive result into the error to throw (`nil`: treat as end of stream).
    func receiveError(_ result: Int32) -> IOReactorError? {
        precondition(result < 0)
        if result == -ECANCELED || result == -EINTR {
            let reason = self.cancelReason
            switch reason {
            case .drain?: return nil
            case .timeout?: return self.failure ?? IOReactorError(.timeout, reason: "no data within the timeout")
            case .shutdown?: return IOReactorError(.shutdown, reason: "the server shut down")
            case .task?, nil: return IOReactorError(.cancelled, reason: "the read was cancelled")
            }
        }
        if result == -ECONNRESET || result == -EPIPE {
            return IOReactorError(.connectionReset, errno: -result, reason: "the peer reset the connection")
        }
        return IOReactorError(.systemCall, errno: -result, reason: "recv: \(errnoDescription(-result))")
    }

    /// Cancels the in-flight receive (and send when `send`), recording `reason`.
    func cancelOperations(_ reason: CancelReason, send: Bool) {
        self.cancelReason = reason
        if reason == .timeout && self.failure == nil {
            self.failure = IOReactorError(.timeout, reason: self.handshakeDone ? "idle timeout" : "handshake timeout")
        }
        if self.receiveOp.inFlight { try? self.loop.backend.cancel(self.receiveOp) }
        if send, self.sendOp.inFlight { try? self.loop.backend.cancel(self.sendOp) }
    }

    // MARK: Sending

    /// Bytes accepted by ``write`` but not yet sent.
    var bufferedOutbound: Int {
        if let tls = self.tls { return tls.hasOutbound ? 1 : 0 }
        return self.queued.count + (self.sending.count - self.sendingOffset)
    }

    /// Queues plain bytes behind those being sent.
    func queuePlain(_ bytes: UnsafeRawBufferPointer) {
        self.queued.append(contentsOf: bytes)
    }

    /// Starts a send if none is in flight and something waits to be sent.
    func kickSend() {
        guard !self.sendOp.inFlight, self.failure == nil, self.state != .closed else { return }
        let bytes: UnsafeMutableRawBufferPointer
        if let tls = self.tls {
            bytes = tls.outboundBytes()
        } else {
            if self.sendingOffset == self.sending.count {
                self.releaseSending()
                guard !self.queued.isEmpty else { return }
                self.sending = UnsafeMutableRawBufferPointer.allocate(byteCount: self.queued.count, alignment: 1)
                self.queued.withUnsafeBytes { self.sending.copyMemory(from: $0) }
                self.queued.removeAll(keepingCapacity: self.queued.count <= 4096)
            }
            bytes = UnsafeMutableRawBufferPointer(rebasing: self.sending[self.sendingOffset...])
        }
        guard bytes.count > 0 else { return }
        self.sendOp.buffer = bytes.baseAddress
        self.sendOp.length = bytes.count
        do {
            try self.loop.backend.send(self.sendOp)
        } catch {
            self.failure = error
        }
    }

    private func releaseSending() {
        if self.sending.baseAddress != nil { self.sending.deallocate() }
        self.sending = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        self.sendingOffset = 0
    }

    private func sendCompleted(_ result: Int32) {
        if result < 0 {
            if self.failure == nil {
                self.failure =
                    result == -ECANCELED
                    ? IOReactorError(self.cancelReason == .shutdown ? .shutdown : .timeout, reason: "send cancelled")
                    : IOReactorError(.connectionReset, errno: -result, reason: "send: \(errnoDescription(-result))")
            }
        } else if let tls = self.tls {
            tls.consumeOutbound(Int(result))
        } else {
            self.sendingOffset += Int(result)
        }
        self.kickSend()
        self.resumeProgressWaiters()
    }

    private func resumeProgressWaiters() {
        guard !self.progressWaiters.isEmpty else { return }
        let waiters = self.progressWaiters
        self.progressWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    /// Waits for the next completion of this connection (send progress, receive, or failure),
    /// at most the idle timeout: a peer that stops reading cannot hold a writer forever.
    nonisolated(nonsending) func waitForProgress() async {
        guard self.sendOp.inFlight || self.receiveOp.inFlight else { return }
        self.setDeadline(.write, after: self.limits.idleTimeout)
        defer { self.writeDeadline = nil }
        await withUnsafeContinuation { self.progressWaiters.append($0) }
    }

    // MARK: Deadlines

    /// The three deadlines a connection can have.
    enum DeadlineKind {
        case handshake
        case read
        case write
    }

    /// Sets one of the deadlines and makes sure the connection's single timer fires no later.
    ///
    /// Setting a deadline costs a clock read; the timer is re-armed only when it fires, so a busy
    /// connection does not churn the loop's timer heap with one timer per read.
    func setDeadline(_ kind: DeadlineKind, after nanoseconds: Int64) {
        let deadline = monotonicNanoseconds() &+ max(0, nanoseconds)
        switch kind {
        case .handshake: self.handshakeDeadline = deadline
        case .read: self.readDeadline = deadline
        case .write: self.writeDeadline = deadline
        }
        if let armed = self.timerDeadline, armed <= deadline { return }
        self.timer?.cancel()
        self.timerDeadline = deadline
        self.timer = self.loop.schedule(afterNanoseconds: deadline - monotonicNanoseconds()) {
            self.deadlineTimerFired()
        }
    }

    private func deadlineTimerFired() {
        self.timer = nil
        self.timerDeadline = nil
        guard self.state != .closed else { return }
        let now = monotonicNanoseconds()
        var next: Int64? = nil
        var expired: (read: Bool, other: Bool) = (false, false)
        if let deadline = self.handshakeDeadline {
            if deadline <= now { expired.other = true } else { next = deadline }
        }
        // A read or send that completed in this very turn is not timed out: its waiter runs next.
        if let deadline = self.readDeadline, self.receiveOp.inFlight {
            if deadline <= now { expired.read = true } else { next = min(next ?? deadline, deadline) }
        }
        if let deadline = self.writeDeadline, self.sendOp.inFlight {
            if deadline <= now { expired.other = true } else { next = min(next ?? deadline, deadline) }
        }
        if expired.read || expired.other {
            self.cancelOperations(.timeout, send: expired.other)
        }
        if let next {
            self.timerDeadline = next
            self.timer = self.loop.schedule(afterNanoseconds: next - now) { self.deadlineTimerFired() }
        }
    }

    /// Waits until everything written has been handed to the kernel, or the connection failed.
    nonisolated(nonsending) func flush() async throws(IOReactorError) {
        self.kickSend()
        while self.failure == nil && (self.sendOp.inFlight || self.bufferedOutbound > 0) {
            if !self.sendOp.inFlight { self.kickSend() }
            guard self.sendOp.inFlight else { break }
            await self.waitForProgress()
        }
        if let failure = self.failure { throw failure }
    }

    // MARK: Closing

    /// Starts a graceful drain: a read waiting for new data ends as end-of-stream.
    func beginDrain() {
        guard self.state == .open else { return }
        self.state = .draining
        if self.receiveOp.inFlight && self.receiveWaiter != nil && (self.tls?.pendingPlaintext ?? 0) == 0 {
            self.cancelOperations(.drain, send: false)
        }
    }

    /// Ends the connection now: pending and later reads and writes fail with ``IOReactorError/shutdown``.
    func forceClose() {
        guard self.state != .closed else { return }
        if self.failure == nil { self.failure = IOReactorError(.shutdown, reason: "the server shut down") }
        self.cancelOperations(.shutdown, send: true)
    }

    /// Ends the connection at another component's request (``ReactorConnectionCloser``): pending
    /// and later reads and writes fail with ``IOReactorError/Code/closed``.
    func closeFromOutside(reason: String) {
        guard self.state != .closing && self.state != .closed else { return }
        if self.failure == nil { self.failure = IOReactorError(.closed, reason: reason) }
        self.cancelOperations(.shutdown, send: true)
    }

    /// Ends a connection still in its handshake to make room for a newer one: no alert, no flush.
    /// Returns whether this call evicted it (false if it was already evicted or closed).
    @discardableResult
    func evict() -> Bool {
        guard self.state != .closed, !self.evicted else { return false }
        self.evicted = true
        if self.failure == nil {
            self.failure = IOReactorError(.closed, reason: "evicted: the handshake budget is full")
        }
        self.cancelOperations(.shutdown, send: true)
        return true
    }

    /// Sends close_notify (TLS), flushes within the idle timeout, waits for in-flight operations and
    /// closes the descriptor. Idempotent.
    nonisolated(nonsending) func close() async {
        guard self.state != .closing && self.state != .closed else { return }
        self.state = .closing
        if let tls = self.tls, self.handshakeDone, self.failure == nil {
            _ = SSL_shutdown(tls.ssl)
            ERR_clear_error()  // keep the loop thread's error queue empty between operations
        }
        if self.failure == nil { try? await self.flush() }
        if self.receiveOp.inFlight || self.sendOp.inFlight {
            self.cancelOperations(self.cancelReason ?? .shutdown, send: true)
        }
        while self.receiveOp.inFlight || self.sendOp.inFlight {
            await withUnsafeContinuation { self.progressWaiters.append($0) }
        }
        self.finishClose()
    }

    /// Releases everything once no operation is in flight.
    private func finishClose() {
        self.state = .closed
        self.timer?.cancel()
        self.timer = nil
        self.loop.backend.forget(fd: self.fd)
        _ = Glibc.close(self.fd)
        self.releaseSending()
        if self.scratch.baseAddress != nil { self.scratch.deallocate() }
        self.scratch = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        self.tls = nil
        self.onFirstBytes = nil
        self.receiveOp.onComplete = { _, _ in }
        self.sendOp.onComplete = { _, _ in }
    }
}
