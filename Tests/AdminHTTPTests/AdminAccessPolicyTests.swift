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

import AdminHTTP
import Foundation
import Testing

@Suite("Admin access policy")
struct AdminAccessPolicyTests {
    let token = AdminToken.generate()

    @Test("/v1 needs the bearer token; a wrong or missing one is 401")
    func tokenRequired() throws {
        let policy = AdminAccessPolicy(token: self.token)
        #expect(policy.decide(path: "/v1/tenants", peerIP: "127.0.0.1", authorization: nil) == .unauthorized)
        #expect(
            policy.decide(
                path: "/v1/tenants",
                peerIP: "127.0.0.1",
                authorization: "Bearer " + String(repeating: "0", count: 64)
            ) == .unauthorized
        )
        #expect(
            policy.decide(path: "/v1/tenants", peerIP: "127.0.0.1", authorization: "Basic " + self.token.text)
                == .unauthorized
        )
        #expect(
            policy.decide(path: "/v1/tenants", peerIP: "127.0.0.1", authorization: "Bearer " + self.token.text + "0")
                == .unauthorized
        )
        #expect(
            policy.decide(path: "/v1/tenants", peerIP: "127.0.0.1", authorization: "Bearer " + self.token.text)
                == .allow
        )
        #expect(
            policy.decide(path: "/v1/tenants", peerIP: "::1", authorization: "bearer  " + self.token.text) == .allow
        )
    }

    @Test("/metrics, /healthz and /readyz are open on loopback unless configured")
    func openRoutes() {
        var policy = AdminAccessPolicy(token: self.token)
        for path in ["/metrics", "/healthz", "/readyz"] {
            #expect(policy.decide(path: path, peerIP: "127.0.0.1", authorization: nil) == .allow)
        }
        policy.metricsTokenRequired = true
        #expect(policy.decide(path: "/metrics", peerIP: "127.0.0.1", authorization: nil) == .unauthorized)
        #expect(
            policy.decide(path: "/metrics", peerIP: "127.0.0.1", authorization: "Bearer " + self.token.text) == .allow
        )
    }

    @Test("A peer off the loopback network is 403 unless admin.remote-peers admits it, token or not")
    func remotePeers() throws {
        var policy = AdminAccessPolicy(token: self.token)
        let bearer = "Bearer " + self.token.text
        for peer in ["10.0.0.5", "192.168.1.2", "::ffff:10.1.2.3", "fe80::1", "128.0.0.1", nil] as [String?] {
            #expect(policy.decide(path: "/v1/tenants", peerIP: peer, authorization: bearer) == .forbidden)
            #expect(policy.decide(path: "/metrics", peerIP: peer, authorization: nil) == .forbidden)
        }
        for peer in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "[::1]"] {
            #expect(policy.decide(path: "/v1/tenants", peerIP: peer, authorization: bearer) == .allow)
        }
        policy.remotePeers = try AdminPeerList(parsing: "10.0.0.0/8, 192.168.1.2, fe80::1")
        #expect(policy.decide(path: "/v1/tenants", peerIP: "10.0.0.5", authorization: bearer) == .allow)
        #expect(policy.decide(path: "/v1/tenants", peerIP: "::ffff:10.1.2.3", authorization: bearer) == .allow)
        #expect(policy.decide(path: "/v1/tenants", peerIP: "10.0.0.5", authorization: nil) == .unauthorized)
        #expect(policy.decide(path: "/v1/tenants", peerIP: "192.168.1.2", authorization: bearer) == .allow)
        #expect(policy.decide(path: "/v1/tenants", peerIP: "192.168.1.3", authorization: bearer) == .forbidden)
        #expect(policy.decide(path: "/v1/tenants", peerIP: "FE80::1", authorization: bearer) == .allow)
        #expect(policy.decide(path: "/v1/tenants", peerIP: "11.0.0.1", authorization: bearer) == .forbidden)
        policy.remotePeers = try AdminPeerList(parsing: "*")
        #expect(policy.decide(path: "/v1/tenants", peerIP: "203.0.113.9", authorization: bearer) == .allow)
        #expect(throws: AdminAPIError.self) { try AdminPeerList(parsing: "10.0.0.0/33") }
        #expect(throws: AdminAPIError.self) { try AdminPeerList(parsing: "example.com") }
    }

    @Test("Binding hosts: loopback names and addresses only")
    func bindingHosts() {
        #expect(AdminAccessPolicy.isLoopbackHost("127.0.0.1"))
        #expect(AdminAccessPolicy.isLoopbackHost("localhost"))
        #expect(AdminAccessPolicy.isLoopbackHost("::1"))
        #expect(!AdminAccessPolicy.isLoopbackHost("0.0.0.0"))
        #expect(!AdminAccessPolicy.isLoopbackHost("::"))
        #expect(!AdminAccessPolicy.isLoopbackHost("10.0.0.1"))
    }

    @Test("The token file is created once with mode 0600 and read back")
    func tokenFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "keystorm-token-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/admin.token"
        let (first, created) = try AdminToken.loadOrCreate(at: path)
        #expect(created)
        let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)
        #expect(mode.intValue & 0o777 == 0o600)
        let (second, createdAgain) = try AdminToken.loadOrCreate(at: path)
        #expect(!createdAgain)
        #expect(second.text == first.text)
        #expect(first.text.count == 64)
        #expect(!"\(first)".contains(first.text))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: AdminTokenError.self) { try AdminToken.load(at: path) }
    }
}
