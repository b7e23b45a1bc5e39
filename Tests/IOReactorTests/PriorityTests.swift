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
import Synchronization
import Testing

@testable import IOReactor

/// What ran, in order.
private final class RunOrder: Sendable {
    private let names = Mutex<[String]>([])
    func append(_ name: String) { self.names.withLock { $0.append(name) } }
    var all: [String] { self.names.withLock { $0 } }
}

/// Keeps the calling thread busy for `milliseconds` (a job that does a handshake's CPU work).
private func spin(milliseconds: Int) {
    let clock = ContinuousClock()
    let end = clock.now + .milliseconds(milliseconds)
    while clock.now < end {}
}

@Suite("Known sources and low-priority work")
struct PriorityTests {
    @Test("a loop runs other jobs before queued low-priority jobs, and every low-priority job in the end")
    func lowPriorityJobsWait() async throws {
        let oneLoop: (inout ReactorConfiguration) -> Void = { $0.loopCount = 1 }
        try await withServer(backend: .automatic, tls: nil, configure: oneLoop) { (server: ReactorServer) in
            let loop = server.loops[0]
            let before = loop.counters.snapshot
            let order = RunOrder()
            for index in 0..<20 {
                Task(executorPreference: loop, priority: .low) {
                    spin(milliseconds: 20)
                    order.append("low \(index)")
                }
            }
            await Task(executorPreference: loop, priority: .medium) {
                order.append("normal")
            }.value
            // Polled, not awaited: awaiting a low-priority task would raise its priority.
            #expect(try await eventually { order.all.count == 21 })
            let recorded = order.all
            // Submitted right after the 20 low-priority tasks (400 ms of work), it runs after
            // the one or two that had started, not after all of them.
            let position = try #require(recorded.firstIndex(of: "normal"))
            #expect(position < 10, "\(recorded)")
            #expect((loop.counters.snapshot - before).lowPriorityJobsRun >= 20)
        }
    }

    @Test("a source becomes known when it completes a handshake, and stays known for its lifetime")
    func knownSources() {
        let table = SourceTable(knownLifetime: .seconds(10), maxKnownSources: 4)
        let client = SourceKey(high: 0, low: 0x7f00_0001)
        let stranger = SourceKey(high: 0, low: 0x7f00_0002)
        let now: Int64 = 1_000_000_000_000
        #expect(table.admit(client, limit: 2, now: now) == .admitted(known: false))
        table.release(client)
        table.authenticated(client, now: now)
        #expect(table.admit(client, limit: 2, now: now + 1) == .admitted(known: true))
        #expect(table.admit(client, limit: 2, now: now + 1) == .admitted(known: true))
        // The per-source limit holds for known sources too.
        #expect(table.admit(client, limit: 2, now: now + 1) == .refused)
        #expect(table.admit(stranger, limit: 2, now: now + 1) == .admitted(known: false))
        // Ten seconds after its last handshake, the source is unknown again.
        #expect(table.isKnown(client, now: now + 9_999_999_999))
        #expect(!table.isKnown(client, now: now + 10_000_000_000))
    }

    @Test("known sources are bounded: expired ones, then the least recently seen, make room")
    func knownSourcesAreBounded() {
        let table = SourceTable(knownLifetime: .seconds(10), maxKnownSources: 4)
        let now: Int64 = 1_000_000_000_000
        for index in 0..<4 { table.authenticated(SourceKey(high: 0, low: UInt64(index)), now: now + Int64(index)) }
        #expect(table.knownCount == 4)
        // A fifth, much later: the first four have expired.
        table.authenticated(SourceKey(high: 0, low: 100), now: now + 20_000_000_000)
        #expect(table.knownCount == 1)
        // Five within the lifetime: over the bound, the most recently seen half stays.
        for index in 0..<4 {
            table.authenticated(SourceKey(high: 0, low: UInt64(200 + index)), now: now + 20_000_000_001 + Int64(index))
        }
        #expect(table.knownCount == 2)
        #expect(table.isKnown(SourceKey(high: 0, low: 203), now: now + 20_000_000_010))
        #expect(!table.isKnown(SourceKey(high: 0, low: 100), now: now + 20_000_000_010))
    }

    @Test(
        "a flood's handshakes run at low priority and are evicted before a known source's",
        .timeLimit(.minutes(1)),
        arguments: allBackends
    )
    func knownSourceOverFlood(backend: IOBackendKind) async throws {
        let pki = TestPKI.shared
        let oneLoop: (inout ReactorConfiguration) -> Void = {
            FloodTests.budgetOfEight(&$0)
            $0.loopCount = 1
        }
        try await withServer(backend: backend, tls: try makeServerTLS(), configure: oneLoop) {
            (server: ReactorServer) async throws in
            let port = server.port
            // 127.0.0.1 completes a handshake (its first connection runs at low priority).
            #expect(try await attempt(port: port, identity: pki.client) == .served)
            #expect(server.statistics.lowPriorityConnections == 1)
            // Three handshakes in progress from the now known 127.0.0.1, then twice as many
            // from five unknown sources, one at a time so that each is read (talking).
            let known = try await FloodTests.talkingClients(port: port, count: 3) { _ in nil }
            #expect(try await eventually { server.statistics.accepted >= 4 })
            #expect(server.statistics.lowPriorityConnections == 1)
            let flood = try await FloodTests.talkingClients(port: port, count: 10) { "127.0.0.\(2 + $0 % 5)" }
            #expect(try await eventually { server.statistics.accepted >= 14 })
            #expect(server.statistics.lowPriorityConnections == 11)
            // Their first jobs and the jobs their bytes woke ran in the loop's low-priority queue.
            #expect(server.loops[0].counters.snapshot.lowPriorityJobsRun >= 11)
            // The budget of 8 held 3 known and 5 flood handshakes; each later flood connection
            // evicted a flood handshake, although 127.0.0.1 holds the most handshakes (3 to 2).
            #expect(try await eventually { flood.value.filter(\.closedByPeer).count >= 5 })
            #expect(known.value.allSatisfy { !$0.closedByPeer })
            #expect(server.statistics.evictedHandshakes >= 5)
        }
    }
}
