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
import Testing

@testable import KMIPServer

@Suite("Edit serializer")
struct EditSerializerTests {
    private final class Probe: Sendable {
        let state = Mutex<(running: [String: Int], most: [String: Int], order: [Int])>(([:], [:], []))

        func enter(_ key: String) {
            self.state.withLock { state in
                state.running[key, default: 0] += 1
                state.most[key] = max(state.most[key, default: 0], state.running[key, default: 0])
            }
        }

        func leave(_ key: String, _ index: Int) {
            self.state.withLock { state in
                state.running[key, default: 0] -= 1
                state.order.append(index)
            }
        }
    }

    @Test func oneEditPerObjectRunsAtATimeAndOtherObjectsDoNotWait() async throws {
        let serializer = EditSerializer()
        let probe = Probe()
        await withTaskGroup(of: Bool.self) { group in
            for index in 0..<40 {
                let key = index.isMultiple(of: 2) ? "even" : "odd"
                group.addTask {
                    (try? await serializer.exclusively(tenantID: "t", uniqueIdentifier: key) {
                        waited throws(KMIPError) in
                        probe.enter(key)
                        try? await Task.sleep(for: .milliseconds(2))
                        probe.leave(key, index)
                        return waited
                    }) ?? false
                }
            }
            var waited = 0
            for await result in group where result { waited += 1 }
            // Twenty edits per object, and the sleeps overlap: most of them had to wait.
            #expect(waited > 0)
        }
        let state = probe.state.withLock { $0 }
        #expect(state.most["even"] == 1)
        #expect(state.most["odd"] == 1)
        #expect(state.order.count == 40)
    }

    @Test func aFailedEditGivesTheTurnAway() async throws {
        let serializer = EditSerializer()
        await #expect(throws: KMIPError.self) {
            try await serializer.exclusively(tenantID: "t", uniqueIdentifier: "k") { _ throws(KMIPError) -> Int in
                throw KMIPError(.permissionDenied, "no")
            }
        }
        let value = try await serializer.exclusively(tenantID: "t", uniqueIdentifier: "k") { waited throws(KMIPError) in
            waited ? 0 : 1
        }
        #expect(value == 1)
    }
}
