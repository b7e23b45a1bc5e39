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

public import Metrics
import Synchronization

/// One unwrap a caller needs: which key, and what to send to the root-key service.
public struct UnwrapRequest: Sendable {
    /// The tenant and unique identifier: callers asking for the same key share one unwrap.
    public var key: KeyCache.Key
    public var wrapped: WrappedKey
    public var rootKeyID: String
    public var aad: [UInt8]

    public init(key: KeyCache.Key, wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) {
        self.key = key
        self.wrapped = wrapped
        self.rootKeyID = rootKeyID
        self.aad = aad
    }
}

/// Puts a boot storm's unwraps through one root-key service in order.
///
/// - Single flight: callers asking for the same key while an unwrap of it is queued or running
///   wait for that one unwrap; N concurrent Gets of one key cost one call to the service.
/// - At most ``Configuration/maxInFlight`` unwraps run at once (default 64); further keys queue,
///   first come first served.
/// - An optional token bucket (``RateLimit``) spaces the calls out.
/// - Every caller has a deadline (``Configuration/timeout``): a caller still waiting then gets
///   ``RootKeyError/unavailable`` ("root key service unavailable: ..."), never a hang. A caller
///   that times out or is cancelled leaves the flight; the unwrap goes on for the others, and a
///   queued unwrap nobody waits for any more is dropped.
/// - A successful unwrap fills the ``KeyCache`` (unless a purge happened meanwhile); failures are
///   not cached, and every caller of the flight gets the same error.
///
/// A provider must bound its own calls (HTTP timeouts, retry budgets): callers always get their
/// deadline error, but an unwrap that never returns keeps its in-flight slot.
///
/// The state is a synchronous ``StateMachine`` in a `Mutex`. Each caller waits in a task group of
/// two children, its wait and its deadline, so nothing blocks a thread. The unwrap itself runs in
/// an unstructured task: it belongs to no single caller, and cancelling the caller that started it
/// must not cancel it for the others.
public final class UnwrapBatcher: Sendable {
    /// Bounds and timeouts.
    public struct Configuration: Sendable {
        /// The most unwraps sent to the service at once; at least 1.
        public var maxInFlight: Int
        /// The token bucket, or `nil` for none.
        public var rateLimit: RateLimit?
        /// How long a caller waits (queue, rate limit and unwrap together) before it gets
        /// ``RootKeyError/unavailable``.
        public var timeout: Duration

        /// How long a started unwrap may wait for others to go with it in one
        /// ``RootKeyService/unwrap(batch:)`` call; used only for a service whose
        /// ``RootKeyService/unwrapBatchLimit`` is above 1. A full batch goes at once. Zero: off.
        public var batchWindow: Duration

        /// - Parameters:
        ///   - maxInFlight: Default 64.
        ///   - rateLimit: Default none.
        ///   - timeout: Default 10 s.
        ///   - batchWindow: Default 0 (off).
        public init(
            maxInFlight: Int = 64,
            rateLimit: RateLimit? = nil,
            timeout: Duration = .seconds(10),
            batchWindow: Duration = .zero
        ) {
            self.batchWindow = max(.zero, batchWindow)
            self.maxInFlight = max(1, maxInFlight)
            self.rateLimit = rateLimit
            self.timeout = timeout
        }
    }

    /// A snapshot of the counters, read without the lock.
    public struct Statistics: Hashable, Sendable {
        /// Unwraps sent to the service.
        public var unwraps: Int
        /// Unwraps the service failed.
        public var failures: Int
        /// Callers that joined an unwrap already queued or running.
        public var coalesced: Int
        /// Callers whose deadline passed.
        public var timeouts: Int
        /// Unwraps running now.
        public var inFlight: Int
        /// Keys waiting for an in-flight slot or a token now.
        public var queued: Int
    }

    public let configuration: Configuration
    /// The service it sends unwraps to.
    public let service: any RootKeyService
    /// The cache it fills, if any.
    public let cache: KeyCache?
    let clock: any MonotonicClock
    private let state: Mutex<StateMachine>
    private let unwraps = Atomic<Int>(0)
    private let failures = Atomic<Int>(0)
    private let coalesced = Atomic<Int>(0)
    private let timeouts = Atomic<Int>(0)
    private let inFlight = Atomic<Int>(0)
    private let queued = Atomic<Int>(0)
    /// Started unwraps waiting for the batch window (see ``Configuration/batchWindow``).
    let window = Mutex(BatchWindow())
    private let metrics: UnwrapBatcherMetrics

    /// - Parameters:
    ///   - service: The root-key service (one batcher per service).
    ///   - cache: Filled on every successful unwrap; consulted once more before a new unwrap starts.
    ///   - configuration: Bounds and timeouts.
    ///   - clock: Deadlines and the token bucket; tests pass a manual one.
    ///   - metrics: Where the `keystorm_unwrap_*` metrics go; the process-wide factory by default.
    public init(
        service: any RootKeyService,
        cache: KeyCache?,
        configuration: Configuration = Configuration(),
        clock: any MonotonicClock = .continuous,
        metrics: any MetricsFactory = MetricsSystem.factory
    ) {
        self.service = service
        self.cache = cache
        self.configuration = configuration
        self.clock = clock
        self.metrics = UnwrapBatcherMetrics(factory: metrics)
        self.state = Mutex(
            StateMachine(maxInFlight: configuration.maxInFlight, rateLimit: configuration.rateLimit, now: clock.now)
        )
    }

    /// Unwraps `request.wrapped`, sharing the call with every concurrent caller for the same key.
    ///
    /// - Returns: The service's result (`rewrapped` is set for the caller whose flight it was and
    ///   every caller that joined it; a caller served from the cache gets none).
    /// - Throws: ``RootKeyError/unavailable`` when ``Configuration/timeout`` passes first;
    ///   `CancellationError` when the caller's task is cancelled; otherwise the service's error.
    public func unwrap(_ request: UnwrapRequest) async throws -> UnwrapResult {
        try Task.checkCancellation()
        let now = self.clock.now
        let outcome = self.update { $0.join(request, now: now, cached: { self.cache?.peek($0) }) }
        let id: UInt64
        switch outcome {
        case .cached(let plaintext):
            return UnwrapResult(plaintext: plaintext)
        case .waiter(let waiter, let coalesced, let actions):
            if coalesced {
                self.coalesced.add(1, ordering: .relaxed)
                self.metrics.coalesced.increment()
            }
            self.execute(actions)
            id = waiter
        }
        let deadline = now + self.configuration.timeout
        let result = try await withThrowingTaskGroup(of: UnwrapResult?.self) { group in
            group.addTask { try await self.wait(id) }
            group.addTask {
                try await self.clock.sleep(until: deadline)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        guard let result else {
            self.timeouts.add(1, ordering: .relaxed)
            self.metrics.timeouts.increment()
            throw RootKeyError(
                .unavailable,
                reason: "root key service unavailable: no unwrap of \(request.key) within \(self.configuration.timeout)"
            )
        }
        return result
    }

    /// The counters now.
    public var statistics: Statistics {
        Statistics(
            unwraps: self.unwraps.load(ordering: .relaxed),
            failures: self.failures.load(ordering: .relaxed),
            coalesced: self.coalesced.load(ordering: .relaxed),
            timeouts: self.timeouts.load(ordering: .relaxed),
            inFlight: self.inFlight.load(ordering: .relaxed),
            queued: self.queued.load(ordering: .relaxed)
        )
    }

    /// Waits for the flight's result; leaves the flight when the task is cancelled.
    private func wait(_ id: UInt64) async throws -> UnwrapResult {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: Continuation) in
                self.execute(self.update { $0.attach(id, continuation) })
            }
        } onCancel: {
            self.execute(self.update { $0.cancel(id) })
        }
    }

    /// Sends one unwrap to the service, fills the cache, and resumes the flight's callers.
    private func fly(_ request: UnwrapRequest, generation: UInt64?) async {
        let result: Result<UnwrapResult, any Error>
        do {
            result = .success(
                try await self.service.unwrap(request.wrapped, rootKeyID: request.rootKeyID, aad: request.aad)
            )
        } catch {
            result = .failure(error)
        }
        self.land(request, result, generation: generation)
    }

    /// A flight's answer: fills the cache, then resumes the flight's callers.
    func land(_ request: UnwrapRequest, _ result: Result<UnwrapResult, any Error>, generation: UInt64?) {
        if case .failure = result { self.failures.add(1, ordering: .relaxed) }
        if case .success(let unwrapped) = result, let cache = self.cache {
            // Before the flight leaves the state machine, so that a caller who finds no flight
            // finds the key in the cache instead.
            cache.insert(unwrapped.plaintext, for: request.key, rootKeyID: request.rootKeyID, ifGeneration: generation)
        }
        let now = self.clock.now
        self.execute(self.update { $0.finish(request.key, result, now: now) })
    }

    private func execute(_ actions: Actions) {
        if let size = actions.finishedFlightSize { self.metrics.flightCallers.record(size) }
        for request in actions.start {
            self.unwraps.add(1, ordering: .relaxed)
            let generation = self.cache?.generation
            if self.batches {
                self.enqueue(request, generation: generation)
            } else {
                Task { await self.fly(request, generation: generation) }
            }
        }
        for (continuation, result) in actions.resume {
            continuation.resume(with: result)
        }
        if let deadline = actions.armTimer {
            Task {
                try? await self.clock.sleep(until: deadline)
                let now = self.clock.now
                self.execute(self.update { $0.timerFired(now: now) })
            }
        }
    }

    private func update<Result: Sendable>(_ body: (inout StateMachine) -> Result) -> Result {
        self.state.withLock { state in
            let result = body(&state)
            if self.inFlight.exchange(state.inFlight, ordering: .relaxed) != state.inFlight {
                self.metrics.inFlight.record(state.inFlight)
            }
            if self.queued.exchange(state.queued, ordering: .relaxed) != state.queued {
                self.metrics.queueDepth.record(state.queued)
            }
            return result
        }
    }
}
