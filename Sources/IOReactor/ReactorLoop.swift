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
public import Synchronization

/// One event loop: a thread that owns one io_uring (or epoll instance) and runs Swift jobs.
///
/// A loop is a `TaskExecutor`: tasks started with `executorPreference: loop` run their
/// nonisolated code on its thread. ``serialExecutor`` is its `SerialExecutor` role, so an actor with
/// `nonisolated var unownedExecutor: UnownedSerialExecutor { loop.serialExecutor.asUnownedSerialExecutor() }`
/// runs on the same thread. Jobs enqueued while the loop runs a turn run in that same turn (at most
/// ``jobRoundsPerTurn`` rounds), so an actor hop costs no extra system call.
///
/// Low-priority jobs wait in a queue of their own: jobs enqueued inside
/// ``enqueueing(atLowPriority:_:)`` (the server resumes the tasks of connections from sources that
/// have not authenticated lately that way), and jobs of tasks whose priority is `TaskPriority.low`
/// or below (a structured child task runs at least at its parent's priority, so the server cannot
/// use task priorities for its connections). Each turn runs the other jobs first, then
/// low-priority jobs for ``lowPrioritySlice`` or a third of the time the other jobs took,
/// whichever is longer (at least one job), then polls for I/O again. A flood's handshakes then
/// cost the other clients about a slice of delay, not a queue of handshakes, and low-priority work
/// still gets at least a quarter of a busy loop: a host's first connection after a restart waits
/// behind known hosts, but is never starved.
///
/// Everything that touches the ring runs on the loop thread: the ring is created by it, which
/// `IORING_SETUP_SINGLE_ISSUER`/`DEFER_TASKRUN` require. Other threads hand work over through a
/// locked queue and an `eventfd` write (counted in ``Counters/remoteSubmits``).
public final class ReactorLoop: @unchecked Sendable {
    /// Live counters, readable from any thread (relaxed loads).
    public final class Counters: Sendable {
        /// Jobs run (task and actor jobs).
        public let jobsRun = Atomic<UInt64>(0)
        /// Jobs that arrived through the ``ReactorLoop/serialExecutor`` (actor jobs).
        public let actorJobsRun = Atomic<UInt64>(0)
        /// Jobs and closures enqueued from another thread.
        public let remoteSubmits = Atomic<UInt64>(0)
        /// I/O completions delivered (the wake-up read excluded).
        public let completions = Atomic<UInt64>(0)
        /// Loop turns (one wait for completions each).
        public let turns = Atomic<UInt64>(0)
        /// Low-priority jobs run (included in ``jobsRun``).
        public let lowPriorityJobsRun = Atomic<UInt64>(0)

        /// A plain copy of the counters.
        public var snapshot: Snapshot {
            Snapshot(
                jobsRun: self.jobsRun.load(ordering: .relaxed),
                actorJobsRun: self.actorJobsRun.load(ordering: .relaxed),
                remoteSubmits: self.remoteSubmits.load(ordering: .relaxed),
                completions: self.completions.load(ordering: .relaxed),
                turns: self.turns.load(ordering: .relaxed),
                lowPriorityJobsRun: self.lowPriorityJobsRun.load(ordering: .relaxed)
            )
        }

        /// A point-in-time copy of ``Counters``; subtract two to measure an interval.
        public struct Snapshot: Sendable, Hashable {
            public var jobsRun: UInt64
            public var actorJobsRun: UInt64
            public var remoteSubmits: UInt64
            public var completions: UInt64
            public var turns: UInt64
            public var lowPriorityJobsRun: UInt64

            public static func - (lhs: Snapshot, rhs: Snapshot) -> Snapshot {
                Snapshot(
                    jobsRun: lhs.jobsRun &- rhs.jobsRun,
                    actorJobsRun: lhs.actorJobsRun &- rhs.actorJobsRun,
                    remoteSubmits: lhs.remoteSubmits &- rhs.remoteSubmits,
                    completions: lhs.completions &- rhs.completions,
                    turns: lhs.turns &- rhs.turns,
                    lowPriorityJobsRun: lhs.lowPriorityJobsRun &- rhs.lowPriorityJobsRun
                )
            }
        }
    }

    /// Work queued for the loop thread.
    ///
    /// `@unchecked Sendable`: a `.closure` that crosses threads always comes from
    /// ``execute(_:)``, which takes a `@Sendable` closure; non-Sendable closures are queued only by
    /// the loop thread itself (``submitLocal(_:)``).
    enum Work: @unchecked Sendable {
        case task(UnownedJob)
        case actor(UnownedJob)
        case closure(() -> Void)
    }

    private struct RemoteQueue {
        var work: [Work] = []
        var wakePending = false
        var stopRequested = false
    }

    /// How many times jobs enqueued during a turn are run again before waiting for I/O.
    public static let jobRoundsPerTurn = 8

    /// How long a turn runs low-priority jobs at least (when it has them) before it polls for
    /// I/O again: about one full TLS handshake of CPU.
    public static let lowPrioritySlice: Duration = .milliseconds(1)

    /// The index of this loop in its group.
    public let index: Int
    /// The loop's counters.
    public let counters = Counters()
    /// The loop's `SerialExecutor` role, for actors pinned to it.
    public let serialExecutor: ReactorSerialExecutor
    /// The backend kind actually in use.
    public var backendKind: IOBackendKind { self.startedKind.withLock { $0 ?? .automatic } }

    /// Plaintext scratch shared by the loop's connections: used only synchronously, between two
    /// suspension points, so an idle connection holds no plaintext buffer.
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 16)
    private let remote = Mutex(RemoteQueue())
    /// Set (under the lock) when the remote queue has work or a stop request, so the loop takes
    /// the lock only when there is something to take.
    private let remoteAttention = Atomic<Bool>(false)
    private var stopping = false
    private let startedKind = Mutex<IOBackendKind?>(nil)
    private let eventFD: Int32
    /// Loop-thread state below.
    private var local: [Work] = []
    /// Low-priority task jobs, oldest first from ``lowHead``.
    private var low: [Work] = []
    private var lowHead = 0
    /// While positive, task jobs enqueued on the loop thread are low priority.
    private var lowPriorityDepth = 0
    /// The batch being run; kept to reuse its storage every turn.
    private var running: [Work] = []
    private var timers = TimerHeap()
    private var timerSequence: UInt64 = 0
    private(set) var backend: (any IOBackend)!
    private var wakeOp: IOOperation!
    private var wakeBuffer = UInt64(0)

    init(index: Int) throws(IOReactorError) {
        self.index = index
        guard case .value(let fd) = try systemCall("eventfd", { eventfd(0, Int32(EFD_CLOEXEC)) })
        else { throw IOReactorError(.systemCall, reason: "eventfd would block") }
        self.eventFD = fd
        self.serialExecutor = ReactorSerialExecutor()
        self.serialExecutor.loop = self
        self.local.reserveCapacity(64)
    }

    deinit {
        Glibc.close(self.eventFD)
        self.scratch.deallocate()
    }

    /// `true` when called on this loop's thread.
    public var inEventLoop: Bool {
        CKeystorm_current_loop() == Unmanaged.passUnretained(self).toOpaque()
    }

    /// Starts the thread; `ready` is called on it once the backend is set up (or failed).
    func start(
        kind: IOBackendKind,
        ringEntries: UInt32,
        simulateUringFailure: Bool = false,
        log: @escaping @Sendable (String) -> Void,
        ready: @escaping @Sendable (Result<IOBackendKind, IOReactorError>) -> Void
    ) throws(IOReactorError) {
        let context = Unmanaged.passRetained(
            ThreadStart(
                loop: self,
                kind: kind,
                ringEntries: ringEntries,
                simulateUringFailure: simulateUringFailure,
                log: log,
                ready: ready
            )
        )
        var thread = pthread_t()
        let result = pthread_create(
            &thread,
            nil,
            { raw in
                let start = Unmanaged<ThreadStart>.fromOpaque(raw!).takeRetainedValue()
                start.loop.threadMain(start)
                return nil
            },
            context.toOpaque()
        )
        if result != 0 {
            context.release()
            throw IOReactorError(.systemCall, errno: result, reason: "pthread_create: \(errnoDescription(result))")
        }
        pthread_detach(thread)
    }

    private final class ThreadStart {
        let loop: ReactorLoop
        let kind: IOBackendKind
        let ringEntries: UInt32
        let simulateUringFailure: Bool
        let log: @Sendable (String) -> Void
        let ready: @Sendable (Result<IOBackendKind, IOReactorError>) -> Void

        init(
            loop: ReactorLoop,
            kind: IOBackendKind,
            ringEntries: UInt32,
            simulateUringFailure: Bool,
            log: @escaping @Sendable (String) -> Void,
            ready: @escaping @Sendable (Result<IOBackendKind, IOReactorError>) -> Void
        ) {
            self.loop = loop
            self.kind = kind
            self.ringEntries = ringEntries
            self.simulateUringFailure = simulateUringFailure
            self.log = log
            self.ready = ready
        }
    }

    private func makeBackend(_ start: ThreadStart) throws(IOReactorError) -> any IOBackend {
        if start.kind != .epoll {
            do throws(IOReactorError) {
                if start.simulateUringFailure {
                    throw IOReactorError(
                        .ioUringUnavailable,
                        errno: EPERM,
                        reason: "io_uring_setup: simulated for a test"
                    )
                }
                return try UringBackend(entries: start.ringEntries, log: start.log, loopIndex: self.index)
            } catch {
                if start.kind == .uring { throw error }
                start.log("loop \(self.index): io_uring unavailable (\(error)); falling back to epoll")
            }
        }
        return try EpollBackend()
    }

    private func threadMain(_ start: ThreadStart) {
        // Without a name the thread shows the name of the one that created it in `top -H`.
        _ = CKeystorm_set_thread_name("keystorm-io-\(self.index)")
        CKeystorm_set_current_loop(Unmanaged.passUnretained(self).toOpaque())
        defer { CKeystorm_set_current_loop(nil) }
        do {
            self.backend = try self.makeBackend(start)
            self.wakeOp = IOOperation(.wakeUp) { [unowned self] result, _ in self.wakeCompleted(result) }
            self.armWakeUp()
        } catch {
            start.ready(.failure(error))
            return
        }
        self.startedKind.withLock { $0 = self.backend.kind }
        start.ready(.success(self.backend.kind))
        self.run()
        self.backend.close()
        self.backend = nil
        self.wakeOp = nil
    }

    private func armWakeUp() {
        self.wakeOp.fd = self.eventFD
        withUnsafeMutablePointer(to: &self.wakeBuffer) { self.wakeOp.buffer = UnsafeMutableRawPointer($0) }
        self.wakeOp.length = 8
        do {
            try self.backend.receive(self.wakeOp)
        } catch {
            preconditionFailure("loop \(self.index): cannot arm the wake-up read: \(error)")
        }
    }

    private func wakeCompleted(_ result: Int32) {
        if result != -ECANCELED { self.armWakeUp() }
    }

    private func run() {
        while true {
            self.runJobs()
            if self.stopping && self.local.isEmpty && !self.hasLowWork { return }
            var timeout: Int64? = nil
            if !self.local.isEmpty || self.hasLowWork {
                timeout = 0
            } else if let deadline = self.timers.nextDeadline() {
                timeout = max(0, deadline - monotonicNanoseconds())
            }
            self.counters.turns.add(1, ordering: .relaxed)
            do {
                let count = try self.backend.poll(timeoutNanoseconds: timeout)
                self.counters.completions.add(UInt64(count), ordering: .relaxed)
            } catch {
                preconditionFailure("loop \(self.index): waiting for completions failed: \(error)")
            }
            if !self.timers.isEmpty {
                for timer in self.timers.popExpired(now: monotonicNanoseconds()) {
                    let action = timer.action
                    timer.cancel()
                    action?()
                }
            }
        }
    }

    private var hasLowWork: Bool { self.lowHead < self.low.count }

    /// Runs queued jobs (see ``runRounds()``), then low-priority jobs for ``lowPrioritySlice`` or
    /// a third of the time the others took, whichever is longer; at least one per turn.
    private func runJobs() {
        guard self.hasLowWork else {
            self.runRounds()
            return
        }
        let start = monotonicNanoseconds()
        self.runRounds()
        let budget = max(Self.lowPrioritySlice.nanoseconds, (monotonicNanoseconds() &- start) / 3)
        let end = monotonicNanoseconds() &+ budget
        while self.hasLowWork {
            let work = self.low[self.lowHead]
            self.lowHead += 1
            self.counters.lowPriorityJobsRun.add(1, ordering: .relaxed)
            self.runOne(work)
            if self.lowHead == self.low.count {
                self.low.removeAll(keepingCapacity: true)
                self.lowHead = 0
            } else if self.lowHead >= 1_024 && self.lowHead * 2 >= self.low.count {
                self.low.removeFirst(self.lowHead)
                self.lowHead = 0
            }
            // Work the job made runs now.
            self.runRounds()
            if monotonicNanoseconds() >= end { return }
        }
    }

    /// Runs queued jobs; jobs they enqueue run too, up to ``jobRoundsPerTurn`` rounds.
    private func runRounds() {
        for _ in 0..<Self.jobRoundsPerTurn {
            if self.remoteAttention.load(ordering: .acquiring) {
                let (remoteWork, stop) = self.remote.withLock { queue -> ([Work], Bool) in
                    self.remoteAttention.store(false, ordering: .relaxed)
                    queue.wakePending = false
                    let taken = queue.work
                    queue.work.removeAll(keepingCapacity: true)
                    return (taken, queue.stopRequested)
                }
                if stop { self.stopping = true }
                for work in remoteWork { self.enqueueLocal(work) }
            }
            if self.local.isEmpty { return }
            swap(&self.running, &self.local)
            for work in self.running { self.runOne(work) }
            self.running.removeAll(keepingCapacity: true)
        }
    }

    /// Runs `body`; when `low`, the task jobs it enqueues on this loop (the job of a continuation
    /// it resumes, the first job of a task it starts) wait in the low-priority queue. Loop thread
    /// only.
    func enqueueing<T>(atLowPriority low: Bool, _ body: () throws -> T) rethrows -> T {
        guard low else { return try body() }
        precondition(self.inEventLoop)
        self.lowPriorityDepth += 1
        defer { self.lowPriorityDepth -= 1 }
        return try body()
    }

    /// Queues `work` on this thread: a low-priority task job in ``low``, anything else in
    /// ``local``.
    @inline(__always)
    private func enqueueLocal(_ work: Work) {
        if case .task(let job) = work, self.lowPriorityDepth > 0 || Self.isLowPriority(job.priority) {
            self.low.append(work)
        } else {
            self.local.append(work)
        }
    }

    /// `TaskPriority.low` (also `.utility`) and `.background`; not an unspecified priority.
    @inline(__always)
    static func isLowPriority(_ priority: JobPriority) -> Bool {
        priority.rawValue != 0 && priority.rawValue <= TaskPriority.low.rawValue
    }

    @inline(__always)
    private func runOne(_ work: Work) {
        switch work {
        case .task(let job):
            self.counters.jobsRun.add(1, ordering: .relaxed)
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        case .actor(let job):
            self.counters.jobsRun.add(1, ordering: .relaxed)
            self.counters.actorJobsRun.add(1, ordering: .relaxed)
            job.runSynchronously(
                isolatedTo: self.serialExecutor.asUnownedSerialExecutor(),
                taskExecutor: self.asUnownedTaskExecutor()
            )
        case .closure(let body):
            body()
        }
    }

    /// Queues a closure that may capture loop-thread state. Loop thread only.
    func submitLocal(_ body: @escaping () -> Void) {
        precondition(self.inEventLoop)
        self.local.append(.closure(body))
    }

    /// Queues work: locally when called on the loop, else through the remote queue and the eventfd.
    func submit(_ work: Work) {
        if self.inEventLoop {
            self.enqueueLocal(work)
            return
        }
        self.counters.remoteSubmits.add(1, ordering: .relaxed)
        let wake = self.remote.withLock { queue -> Bool in
            queue.work.append(work)
            self.remoteAttention.store(true, ordering: .releasing)
            defer { queue.wakePending = true }
            return !queue.wakePending
        }
        if wake { self.wakeUp() }
    }

    private func wakeUp() {
        var one = UInt64(1)
        // EAGAIN means the counter is saturated, so a wake-up is already pending.
        _ = try? systemCall("write(eventfd)") { write(self.eventFD, &one, 8) }
    }

    /// Runs `body` on the loop thread: at once if called on it, else in its next turn.
    public func execute(_ body: @escaping @Sendable () -> Void) {
        if self.inEventLoop {
            body()
        } else {
            self.submit(.closure(body))
        }
    }

    /// Asks the loop thread to exit once its queues are empty. Idempotent.
    func stop() {
        let wake = self.remote.withLock { queue -> Bool in
            queue.stopRequested = true
            self.remoteAttention.store(true, ordering: .releasing)
            defer { queue.wakePending = true }
            return !queue.wakePending
        }
        if wake { self.wakeUp() }
    }

    /// Schedules `action` on the loop thread after `nanoseconds`. Loop thread only.
    func schedule(afterNanoseconds nanoseconds: Int64, _ action: @escaping () -> Void) -> LoopTimer {
        precondition(self.inEventLoop)
        self.timerSequence &+= 1
        let deadline = monotonicNanoseconds() &+ max(0, nanoseconds)
        let timer = LoopTimer(deadline: deadline, sequence: self.timerSequence, action: action)
        self.timers.insert(timer)
        return timer
    }
}

extension ReactorLoop: TaskExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        self.submit(.task(UnownedJob(job)))
    }
}

extension ReactorLoop: CustomStringConvertible {
    public var description: String { "ReactorLoop(\(self.index), \(self.backendKind))" }
}

/// The `SerialExecutor` role of a ``ReactorLoop``: actors that return it as their `unownedExecutor`
/// run on the loop thread.
///
/// It is a separate object from the loop because one object cannot tell whether a job arrived as a
/// task job or an actor job; keeping two makes both cost one job per resumption.
public final class ReactorSerialExecutor: SerialExecutor, @unchecked Sendable {
    fileprivate unowned(unsafe) var loop: ReactorLoop!

    fileprivate init() {}

    /// The loop this executor runs on.
    public var reactorLoop: ReactorLoop { self.loop }

    public func enqueue(_ job: consuming ExecutorJob) {
        self.loop.submit(.actor(UnownedJob(job)))
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func checkIsolated() {
        precondition(self.loop.inEventLoop, "not on the thread of \(self.loop!)")
    }

    public func isIsolatingCurrentContext() -> Bool? {
        self.loop.inEventLoop
    }
}
