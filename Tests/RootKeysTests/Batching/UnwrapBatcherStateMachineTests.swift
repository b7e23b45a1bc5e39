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

import Synchronization
import Testing

@testable import RootKeys

private func request(_ uid: String) -> UnwrapRequest {
    UnwrapRequest(
        key: KeyCache.Key(tenantID: "t", uniqueIdentifier: uid),
        wrapped: WrappedKey(ciphertext: [1, 2, 3], rootKeyVersion: 1),
        rootKeyID: "r",
        aad: Array(uid.utf8)
    )
}

private typealias Machine = UnwrapBatcher.StateMachine

private func join(
    _ machine: inout Machine,
    _ uid: String,
    now: Duration = .zero
) -> (id: UInt64, coalesced: Bool, started: [String], timer: Duration?) {
    switch machine.join(request(uid), now: now, cached: { _ in nil }) {
    case .cached:
        Issue.record("nothing is cached")
        return (0, false, [], nil)
    case .waiter(let id, let coalesced, let actions):
        return (id, coalesced, actions.start.map(\.key.uniqueIdentifier), actions.armTimer)
    }
}

private func started(_ actions: UnwrapBatcher.Actions) -> [String] {
    actions.start.map(\.key.uniqueIdentifier)
}

private let answer: Result<UnwrapResult, any Error> = .success(UnwrapResult(plaintext: SecretBytes([9])))

@Suite("UnwrapBatcher.StateMachine")
struct UnwrapBatcherStateMachineTests {
    @Test("callers of one key share one flight")
    func singleFlight() {
        var machine = Machine(maxInFlight: 4, rateLimit: nil, now: .zero)
        let first = join(&machine, "a")
        #expect(!first.coalesced)
        #expect(first.started == ["a"])
        let second = join(&machine, "a")
        #expect(second.coalesced)
        #expect(second.started.isEmpty)
        #expect(machine.inFlight == 1)
    }

    @Test("a key the cache has by now starts no flight")
    func cachedAtJoin() {
        var machine = Machine(maxInFlight: 4, rateLimit: nil, now: .zero)
        guard case .cached = machine.join(request("a"), now: .zero, cached: { _ in SecretBytes([1]) }) else {
            Issue.record("expected the cached value")
            return
        }
        #expect(machine.inFlight == 0)
    }

    @Test("flights start first come, first served, within the in-flight bound")
    func fifoWithinBound() {
        var machine = Machine(maxInFlight: 2, rateLimit: nil, now: .zero)
        #expect(join(&machine, "a").started == ["a"])
        #expect(join(&machine, "b").started == ["b"])
        #expect(join(&machine, "c").started.isEmpty)
        #expect(join(&machine, "d").started.isEmpty)
        #expect(machine.queued == 2)
        #expect(started(machine.finish(request("b").key, answer, now: .zero)) == ["c"])
        #expect(started(machine.finish(request("a").key, answer, now: .zero)) == ["d"])
        #expect(machine.inFlight == 2)
        #expect(machine.queued == 0)
    }

    @Test("a queued flight every caller left is dropped, and its queue entry skipped")
    func abandoned() {
        var machine = Machine(maxInFlight: 1, rateLimit: nil, now: .zero)
        _ = join(&machine, "a")
        let b = join(&machine, "b")
        #expect(machine.cancel(b.id).resume.isEmpty)
        #expect(machine.queued == 0)
        // A new caller of b queues a new flight; the stale entry does not start it twice.
        _ = join(&machine, "b")
        #expect(started(machine.finish(request("a").key, answer, now: .zero)) == ["b"])
        #expect(started(machine.finish(request("b").key, answer, now: .zero)).isEmpty)
        #expect(machine.inFlight == 0)
    }

    @Test("the token bucket holds flights back and arms one timer at a time")
    func rateLimit() {
        var machine = Machine(maxInFlight: 8, rateLimit: RateLimit(unwrapsPerSecond: 1, burst: 1), now: .zero)
        #expect(join(&machine, "a").started == ["a"])
        let b = join(&machine, "b")
        #expect(b.started.isEmpty)
        #expect(b.timer == .seconds(1))
        #expect(join(&machine, "c").timer == nil)
        let fired = machine.timerFired(now: .seconds(1))
        #expect(started(fired) == ["b"])
        #expect(fired.armTimer == .seconds(2))
    }

    @Test("a flight that ends before its caller attaches leaves the result for the attach")
    func completedBeforeAttach() async throws {
        let machine = Mutex(Machine(maxInFlight: 1, rateLimit: nil, now: .zero))
        let id = machine.withLock { join(&$0, "a").id }
        #expect(machine.withLock { $0.finish(request("a").key, answer, now: .zero) }.resume.isEmpty)
        let result = try await withCheckedThrowingContinuation { continuation in
            for (waiter, result) in machine.withLock({ $0.attach(id, continuation) }).resume {
                waiter.resume(with: result)
            }
        }
        #expect(result.plaintext.copyBytes() == [9])
    }

    @Test("a caller cancelled before it attaches is resumed with CancellationError on attach")
    func cancelledBeforeAttach() async throws {
        let machine = Mutex(Machine(maxInFlight: 1, rateLimit: nil, now: .zero))
        let id = machine.withLock { join(&$0, "a").id }
        #expect(machine.withLock { $0.cancel(id) }.resume.isEmpty)
        await #expect(throws: CancellationError.self) {
            try await withCheckedThrowingContinuation { continuation in
                for (waiter, result) in machine.withLock({ $0.attach(id, continuation) }).resume {
                    waiter.resume(with: result)
                }
            }
        }
        // The flight runs on (it started) and finishes with nobody to resume.
        #expect(machine.withLock { $0.finish(request("a").key, answer, now: .zero) }.resume.isEmpty)
    }
}
