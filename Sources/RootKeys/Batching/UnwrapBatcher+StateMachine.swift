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

extension UnwrapBatcher {
    typealias Continuation = CheckedContinuation<UnwrapResult, any Error>

    /// What the batcher must do after an event, outside its lock.
    struct Actions: Sendable {
        /// Unwraps to send to the root-key service now (each holds an in-flight slot and a token).
        var start: [UnwrapRequest] = []
        /// Callers to resume.
        var resume: [(Continuation, Result<UnwrapResult, any Error>)] = []
        /// Start the rate-limit timer, to fire at this time.
        var armTimer: Duration?
        /// After ``StateMachine/finish(_:_:now:)``: how many callers the finished flight had
        /// (its batch size: 1 plus the callers that joined it), for metrics.
        var finishedFlightSize: Int?
    }

    /// The result of a caller joining.
    enum JoinOutcome: Sendable {
        /// The key was already in the cache (filled by a flight that just ended).
        case cached(SecretBytes)
        /// The caller is registered as `waiter`; `coalesced` when it joined an existing flight.
        case waiter(UInt64, coalesced: Bool, Actions)
    }

    /// The batcher's state: flights (one per key), the FIFO of flights waiting for an in-flight
    /// slot or a token, and the callers waiting on each flight. A pure value: no clock, no lock,
    /// no I/O (house rule 5); ``UnwrapBatcher`` holds it in a `Mutex` and carries out the actions.
    ///
    /// A caller's life: ``join(_:now:cached:)`` reserves it on a flight (creating the flight when
    /// there is none), ``attach(_:_:)`` gives it a continuation, and either the flight's
    /// ``finish(_:_:now:)`` or ``cancel(_:)`` (its task cancelled, or its deadline passed) resumes it.
    /// The events may arrive in any order; whichever comes second resumes the caller.
    struct StateMachine {
        private enum Waiter {
            /// Joined, continuation not yet attached.
            case reserved(KeyCache.Key)
            case waiting(KeyCache.Key, Continuation)
            /// Cancelled before its continuation was attached.
            case cancelled
            /// The flight finished before its continuation was attached.
            case completed(Result<UnwrapResult, any Error>)
        }

        private struct Flight {
            var id: UInt64
            var request: UnwrapRequest
            var waiters: Set<UInt64> = []
            var started = false
        }

        private let maxInFlight: Int
        private var bucket: TokenBucket?
        private var flights: [KeyCache.Key: Flight] = [:]
        /// Flights waiting to start, oldest first; an entry whose flight is gone or started is skipped.
        private var queue: [(key: KeyCache.Key, flight: UInt64)] = []
        private var queueHead = 0
        private var waiters: [UInt64: Waiter] = [:]
        private var nextID: UInt64 = 0
        private var timerArmed = false

        /// Unwraps sent to the service and not yet answered.
        private(set) var inFlight = 0
        /// Flights waiting for a slot or a token.
        private(set) var queued = 0

        init(maxInFlight: Int, rateLimit: RateLimit?, now: Duration) {
            precondition(maxInFlight > 0, "an unwrap batcher needs at least one in-flight slot")
            self.maxInFlight = maxInFlight
            self.bucket = rateLimit.map { TokenBucket($0, now: now) }
        }

        /// A caller asks for `request.key`. It joins the key's flight, or, when there is none and
        /// `cached` has no value, starts one (now, or queued behind others).
        mutating func join(
            _ request: UnwrapRequest,
            now: Duration,
            cached: (KeyCache.Key) -> SecretBytes?
        ) -> JoinOutcome {
            let id = self.makeID()
            if var flight = self.flights[request.key] {
                flight.waiters.insert(id)
                self.flights[request.key] = flight
                self.waiters[id] = .reserved(request.key)
                return .waiter(id, coalesced: true, Actions())
            }
            // A flight for this key may have ended between the caller's cache miss and now; it
            // filled the cache before it left `flights`.
            if let value = cached(request.key) { return .cached(value) }
            self.flights[request.key] = Flight(id: id, request: request, waiters: [id])
            self.waiters[id] = .reserved(request.key)
            self.queue.append((request.key, id))
            self.queued += 1
            var actions = Actions()
            self.pump(now: now, into: &actions)
            return .waiter(id, coalesced: false, actions)
        }

        /// The caller's continuation is ready.
        mutating func attach(_ id: UInt64, _ continuation: Continuation) -> Actions {
            var actions = Actions()
            switch self.waiters[id] {
            case .reserved(let key):
                self.waiters[id] = .waiting(key, continuation)
            case .cancelled:
                self.waiters[id] = nil
                actions.resume.append((continuation, .failure(CancellationError())))
            case .completed(let result):
                self.waiters[id] = nil
                actions.resume.append((continuation, result))
            case .waiting, nil:
                preconditionFailure("a batcher waiter attached twice")
            }
            return actions
        }

        /// The caller stops waiting: its task was cancelled or its deadline passed. The flight
        /// goes on for the others; a flight nobody waits for any more is dropped if not started.
        mutating func cancel(_ id: UInt64) -> Actions {
            var actions = Actions()
            let key: KeyCache.Key
            switch self.waiters[id] {
            case .reserved(let reservedKey):
                key = reservedKey
                self.waiters[id] = .cancelled
            case .waiting(let waitingKey, let continuation):
                key = waitingKey
                self.waiters[id] = nil
                actions.resume.append((continuation, .failure(CancellationError())))
            case .cancelled, .completed, nil:
                return actions
            }
            guard var flight = self.flights[key] else { return actions }
            flight.waiters.remove(id)
            if flight.waiters.isEmpty && !flight.started {
                self.flights[key] = nil
                self.queued -= 1
            } else {
                self.flights[key] = flight
            }
            return actions
        }

        /// The service answered the flight for `key`: resume its callers and start what was waiting.
        mutating func finish(_ key: KeyCache.Key, _ result: Result<UnwrapResult, any Error>, now: Duration) -> Actions {
            var actions = Actions()
            self.inFlight -= 1
            if let flight = self.flights.removeValue(forKey: key) {
                actions.finishedFlightSize = flight.waiters.count
                for id in flight.waiters {
                    switch self.waiters[id] {
                    case .reserved:
                        self.waiters[id] = .completed(result)
                    case .waiting(_, let continuation):
                        self.waiters[id] = nil
                        actions.resume.append((continuation, result))
                    case .cancelled, .completed, nil:
                        break
                    }
                }
            }
            self.pump(now: now, into: &actions)
            return actions
        }

        /// The rate-limit timer fired.
        mutating func timerFired(now: Duration) -> Actions {
            self.timerArmed = false
            var actions = Actions()
            self.pump(now: now, into: &actions)
            return actions
        }

        /// Starts queued flights, oldest first, while there are slots and tokens.
        private mutating func pump(now: Duration, into actions: inout Actions) {
            while self.inFlight < self.maxInFlight, let (key, id) = self.queueFront() {
                guard var flight = self.flights[key], flight.id == id, !flight.started else {
                    self.popQueue()
                    continue
                }
                if self.bucket != nil, !self.bucket!.take(now: now) {
                    if !self.timerArmed {
                        self.timerArmed = true
                        actions.armTimer = self.bucket!.nextToken(now: now)
                    }
                    return
                }
                self.popQueue()
                flight.started = true
                self.flights[key] = flight
                self.inFlight += 1
                self.queued -= 1
                actions.start.append(flight.request)
            }
        }

        private func queueFront() -> (KeyCache.Key, UInt64)? {
            self.queueHead < self.queue.count ? self.queue[self.queueHead] : nil
        }

        private mutating func popQueue() {
            self.queueHead += 1
            if self.queueHead == self.queue.count {
                self.queue.removeAll(keepingCapacity: self.queue.count < 4096)
                self.queueHead = 0
            } else if self.queueHead >= 1024 && self.queueHead * 2 >= self.queue.count {
                self.queue.removeFirst(self.queueHead)
                self.queueHead = 0
            }
        }

        private mutating func makeID() -> UInt64 {
            self.nextID &+= 1
            return self.nextID
        }
    }
}
