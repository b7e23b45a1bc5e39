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

import Testing

@testable import keystorm_load

@Suite("Key popularity")
struct KeyAssignmentTests {
    @Test func vmGivesEveryHostItsOwnKeys() {
        let assignment = KeyAssignment(hosts: 10, keysPerHost: 4, popularity: .vm)
        #expect(assignment.keys == 40)
        var seen = Set<Int>()
        for host in 0..<10 {
            let keys = (0..<4).map { assignment.key(host: host, slot: $0) }
            #expect(Set(keys).count == 4)
            seen.formUnion(keys)
        }
        #expect(seen.count == 40)
        #expect(assignment.getsPerKey() == Array(repeating: 1, count: 40))
    }

    @Test func vmSpreadsFewerKeysEvenly() {
        // The Key Protect storm: 200 hosts × 20 Gets over 2,000 keys: every key read twice.
        let assignment = KeyAssignment(hosts: 200, keysPerHost: 20, keys: 2000, popularity: .vm)
        #expect(assignment.getsPerKey() == Array(repeating: 2, count: 2000))
        for host in [0, 99, 199] {
            #expect(Set((0..<20).map { assignment.key(host: host, slot: $0) }).count == 20)
        }
    }

    @Test func vsanSharesAClustersKeys() {
        let assignment = KeyAssignment(hosts: 130, keysPerHost: 3, popularity: .vsan)
        // Three clusters (64, 64, 2 hosts), three keys each.
        #expect(assignment.keys == 9)
        let cluster0 = (0..<3).map { assignment.key(host: 0, slot: $0) }
        for host in 1..<64 {
            #expect((0..<3).map { assignment.key(host: host, slot: $0) } == cluster0)
        }
        let cluster1 = (0..<3).map { assignment.key(host: 64, slot: $0) }
        let cluster2 = (0..<3).map { assignment.key(host: 129, slot: $0) }
        #expect(Set(cluster0 + cluster1 + cluster2).count == 9)
        let gets = assignment.getsPerKey()
        #expect(gets.reduce(0, +) == 390)
        #expect(gets[cluster0[0]] == 64 && gets[cluster2[0]] == 2)
    }

    @Test func vsanWithFewerKeysThanItNeedsWrapsAround() {
        let assignment = KeyAssignment(hosts: 200, keysPerHost: 4, keys: 2, popularity: .vsan)
        #expect(assignment.keys == 2)
        for host in 0..<200 {
            for slot in 0..<4 { #expect((0..<2).contains(assignment.key(host: host, slot: slot))) }
        }
        #expect(assignment.getsPerKey().reduce(0, +) == 800)
    }

    @Test func mixedSessionsFollowVCentersOrder() {
        let pool = (0..<5).map { "k\($0)" }
        let steps = MixedLoad.steps(session: 3, pool: pool)
        #expect(steps.count == 10)
        #expect(steps[0] == .create && steps[1] == .activateCreated)
        #expect(steps[2..<8].allSatisfy { if case .get = $0 { true } else { false } })
        #expect(steps[8..<10].allSatisfy { if case .getState = $0 { true } else { false } })
        #expect(
            steps.map(\.name) == ["Create", "Activate"] + Array(repeating: "Get", count: 6) + [
                "GetAttributes", "GetAttributes",
            ]
        )
    }
}
