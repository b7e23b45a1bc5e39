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
import KeystormTestSupport
import Testing

extension KMIPTLSClient.Connection {
    /// Sends one Get on this connection and returns its item.
    func get(_ uid: UniqueIdentifier) async throws -> ResponseBatchItem {
        let response = try await self.send(
            RequestMessage(version: .v1_1, batchItems: [RequestBatchItem(GetRequest(uniqueIdentifier: uid))])
        )
        guard response.batchItems.count == 1 else { throw LiveTestFailure("\(response.batchItems.count) items") }
        return response.batchItems[0]
    }

    /// Sends Gets until one fails at the transport (the server closed the connection), for at most
    /// `timeout`; returns the failure.
    func firstTransportFailure(_ uid: UniqueIdentifier, within timeout: Duration = .seconds(10)) async throws -> String
    {
        try await retrying(timeout: timeout, every: .milliseconds(100), "the connection closed by the server") {
            () -> String? in
            do {
                _ = try await self.get(uid)
                return nil
            } catch let failure as KMIPTLSClient.Failure {
                return failure.description
            }
        }
    }
}

extension LiveServerTests {
    /// What admitted a connection going away closes it: its client rule, or its tenant's root key.
    @Suite("Revoking open connections, live")
    struct RevocationLiveTests {
        @Test func removingAClientRuleClosesTheConnectionsItAdmitted() async throws {
            try await LiveServer.with { server in
                let (rule, identity) = try await server.issueClient(tenant: "default", name: "soon-removed")
                let client = try server.client(identity)
                // The rule applies within a refresh interval; wait for it, bounded.
                let uid = try await retrying(timeout: .seconds(60), "the new client admitted") {
                    () -> UniqueIdentifier? in try await client.createKey()
                }
                let connection = try await client.connect()
                let other = try await server.client().connect()
                #expect(try await connection.get(uid).resultStatus == .success)
                #expect(try await other.get(uid).resultStatus == .success)

                try await server.removeClient(rule: rule)
                // The same connection's next request fails: the server closed it.
                let failure = try await connection.firstTransportFailure(uid)
                print("after the rule was removed: \(failure)")
                // A client admitted by another rule keeps its connection.
                #expect(try await other.get(uid).resultStatus == .success)
                // And the removed client cannot come back.
                await #expect(throws: KMIPTLSClient.Failure.self) { _ = try await client.createKey() }
                #expect(server.serverLog.contains("closed 1 connection(s) admitted by removed client rule(s) \(rule)"))
                await connection.close()
                await other.close()
            }
        }

        @Test func deletingTheRootKeyClosesTheTenantsConnections() async throws {
            try await LiveServer.with { server in
                let client = try server.client()
                let uid = try await client.createKey()
                let connection = try await client.connect()
                #expect(try await connection.get(uid).resultStatus == .success)

                _ = try await server.cli(["root-key", "delete", "--tenant", "default", "--yes"])
                let failure = try await connection.firstTransportFailure(uid)
                print("after the root key was deleted: \(failure)")
                #expect(server.serverLog.contains("connection(s) of tenant"))
                await connection.close()
            }
        }
    }
}
