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
import KMIPServer
import KeyStore
import Synchronization
import Testing

@Suite("Open connections by what admitted them")
struct ClientConnectionRegistryTests {
    /// Records which connections were closed.
    final class Closed: Sendable {
        let names = Mutex<[String]>([])
        func closer(_ name: String) -> @Sendable () -> Void { { self.names.withLock { $0.append(name) } } }
        var sorted: [String] { self.names.withLock { $0.sorted() } }
    }

    @Test func closesOnlyTheConnectionsOfARemovedRuleOrTenant() {
        let registry = ClientConnectionRegistry()
        let closed = Closed()
        let a1 = ClientIdentity(tenantID: "a", fingerprint: "f1", ruleID: "rule-1")
        let a2 = ClientIdentity(tenantID: "a", fingerprint: "f2", ruleID: "rule-2")
        let b3 = ClientIdentity(tenantID: "b", fingerprint: "f3", ruleID: "rule-3")
        _ = registry.register(a1, close: closed.closer("a1 first"))
        _ = registry.register(a1, close: closed.closer("a1 second"))
        let gone = registry.register(a2, close: closed.closer("a2 ended"))
        _ = registry.register(a2, close: closed.closer("a2"))
        _ = registry.register(b3, close: closed.closer("b3"))
        registry.unregister(gone)
        #expect(registry.count == 4)

        #expect(registry.closeConnections(ofRules: ["rule-1"]) == 2)
        #expect(closed.sorted == ["a1 first", "a1 second"])
        // Closed connections are forgotten: a second removal closes nothing again.
        #expect(registry.closeConnections(ofRules: ["rule-1", "rule-9"]) == 0)
        #expect(registry.closeConnections(ofTenants: ["a"]) == 1)
        #expect(closed.sorted == ["a1 first", "a1 second", "a2"])
        #expect(registry.closeConnections(notOfTenants: ["b"]) == 0)
        #expect(registry.closeConnections(notOfTenants: []) == 1)
        #expect(closed.sorted == ["a1 first", "a1 second", "a2", "b3"])
        #expect(registry.count == 0)
    }

    @Test func theAuthorizerNamesTheRuleThatAdmittedAClient() async throws {
        let pinned = ClientRule(
            id: "rule-pin",
            tenantID: "a",
            kind: .pinnedCertificate,
            fingerprint: String(repeating: "AB", count: 32),
            certificatePEM: "",
            label: "pinned",
            createdAt: 0
        )
        let ca = ClientRule(
            id: "rule-ca",
            tenantID: "b",
            kind: .trustedCA,
            fingerprint: String(repeating: "cd", count: 32),
            certificatePEM: "",
            label: "ca",
            createdAt: 0
        )
        let directory = NSTemporaryDirectory() + "keystorm-authorizer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let authorizer = ClientAuthorizer(store: try SQLiteKeyStore(path: directory + "/keystorm.sqlite"))
        authorizer.update([pinned, ca])
        let byPin = authorizer.identify(leafFingerprint: String(repeating: "ab", count: 32)) { _ in false }
        #expect(
            byPin == ClientIdentity(tenantID: "a", fingerprint: String(repeating: "ab", count: 32), ruleID: "rule-pin")
        )
        let byCA = authorizer.identify(leafFingerprint: String(repeating: "ef", count: 32)) { $0.id == "rule-ca" }
        #expect(byCA?.ruleID == "rule-ca")
        #expect(byCA?.tenantID == "b")
        #expect(authorizer.hasRule(id: "rule-pin"))
        authorizer.update([ca])
        #expect(!authorizer.hasRule(id: "rule-pin"))
        #expect(authorizer.identify(leafFingerprint: String(repeating: "ab", count: 32)) { _ in false } == nil)
    }
}
