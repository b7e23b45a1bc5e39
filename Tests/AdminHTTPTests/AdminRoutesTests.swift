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
import Hummingbird
import HummingbirdTesting
import KeyStore
import KeystormControl
import NIOCore
import Prometheus
import Synchronization
import Testing

/// An ``AdminOperations`` that records calls and answers from memory.
final class RecordingOperations: AdminOperations {
    let ready = Mutex(true)
    let calls = Mutex<[String]>([])
    let tenantList = Mutex<[AdminTenant]>([
        AdminTenant(
            id: "default",
            displayName: "Default tenant",
            rootKeyProvider: "local",
            rootKeyID: "rk-1",
            rootKeyVersion: 1,
            clientRules: 1,
            createdAt: 0
        )
    ])

    private func record(_ call: String) { self.calls.withLock { $0.append(call) } }

    func tenants() async throws -> [AdminTenant] { self.tenantList.withLock { $0 } }
    func createTenant(_ request: AdminCreateTenant) async throws -> AdminTenant {
        self.record("createTenant \(request.id)")
        return try self.tenantList.withLock { tenants in
            guard !tenants.contains(where: { $0.id == request.id }) else {
                throw ControlError(.alreadyExists, "tenant '\(request.id)' already exists")
            }
            let tenant = AdminTenant(
                id: request.id,
                displayName: request.displayName ?? request.id,
                rootKeyProvider: "local",
                rootKeyID: "rk-\(tenants.count + 1)",
                rootKeyVersion: 1,
                clientRules: 0,
                createdAt: 0
            )
            tenants.append(tenant)
            return tenant
        }
    }
    func clients(tenant: String?) async throws -> [AdminClientRule] { [] }
    func addClient(_ request: AdminAddClient) async throws -> [AdminClientRule] { [] }
    func issueClient(_ request: AdminIssueClient) async throws -> AdminIssuedClient {
        self.record("issue \(request.tenant) \(request.name)")
        return AdminIssuedClient(rule: Self.rule(request.tenant), certificatePath: "/c.pem", keyPath: "/c.key")
    }
    func signCSR(_ request: AdminSignCSR) async throws -> AdminSignedCSR {
        self.record("sign-csr \(request.tenant)")
        return AdminSignedCSR(rule: Self.rule(request.tenant), subject: "CN=vc", certificate: "PEM")
    }
    func removeClient(id: String) async throws { throw ControlError(.notFound, "no client rule \(id)") }

    static func rule(_ tenant: String) -> AdminClientRule {
        AdminClientRule(id: "r1", tenant: tenant, kind: "pinned", fingerprint: "ab", label: "vc", createdAt: 0)
    }
    func rootKeyStatus(tenant: String) async throws -> AdminRootKeyStatus {
        AdminRootKeyStatus(
            tenant: tenant,
            provider: "local",
            keyID: "rk-1",
            state: "active",
            currentVersion: 1,
            keysOnOlderVersions: 0
        )
    }
    func rotateRootKey(tenant: String) async throws -> AdminRootKeyStatus {
        self.record("rotate \(tenant)")
        return AdminRootKeyStatus(
            tenant: tenant,
            provider: "local",
            keyID: "rk-1",
            state: "active",
            currentVersion: 2,
            keysOnOlderVersions: 3
        )
    }
    func deleteRootKey(tenant: String) async throws -> AdminRootKeyStatus {
        self.record("delete \(tenant)")
        return AdminRootKeyStatus(tenant: tenant, provider: "local", keyID: "rk-1", state: "deleted", currentVersion: 1)
    }
    func keys(tenant: String, limit: Int) async throws -> AdminKeyList {
        self.record("keys \(tenant) \(limit)")
        return AdminKeyList(keys: [], total: 0)
    }
    func revokeKey(tenant: String, uniqueIdentifier: String, compromised: Bool) async throws {
        self.record("revoke \(tenant) \(uniqueIdentifier) \(compromised)")
    }
    func destroyKey(tenant: String, uniqueIdentifier: String) async throws {
        self.record("destroy \(tenant) \(uniqueIdentifier)")
    }
    func prewarm(tenant: String, recent: Int) async throws -> AdminPrewarmResult {
        self.record("prewarm \(tenant) \(recent)")
        return AdminPrewarmResult(tenant: tenant, unwrapped: 2, failed: 0)
    }
    func cluster() async throws -> ClusterStatus {
        self.record("cluster")
        return ClusterStatus(
            store: StoreStatus(
                kind: "postgresql",
                location: "postgres://keystorm@db:5432/keystorm",
                role: "primary",
                version: "PostgreSQL 15.18"
            ),
            nodes: [
                ClusterNode(
                    id: "node-a",
                    kmipAddress: "10.0.0.1:5696",
                    version: "1",
                    startedAt: 100,
                    heartbeatAt: 200,
                    cachedKeys: 7
                )
            ],
            readAt: 203
        )
    }

    func readiness() async -> AdminReadiness {
        self.ready.withLock { $0 }
            ? .ready : .notReady("the local root-key service does not answer for the root key of tenant default")
    }
}

@Suite("Admin routes over HTTP")
struct AdminRoutesTests {
    let token = AdminToken.generate()
    let operations = RecordingOperations()
    let registry = PrometheusCollectorRegistry()

    func application(metricsTokenRequired: Bool = false) -> some ApplicationProtocol {
        let policy = AdminAccessPolicy(token: self.token, metricsTokenRequired: metricsTokenRequired)
        let router = AdminRoutes.router(policy: policy, operations: self.operations, metrics: self.registry)
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    var bearer: HTTPFields { [.authorization: "Bearer \(self.token.text)"] }

    static func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test("/metrics renders the registry as Prometheus text 0.0.4; /healthz; /readyz 200 then 503 with a reason")
    func openRoutes() async throws {
        let descriptor = MetricNameDescriptor(
            namespace: "keystorm",
            metricName: "test",
            unitName: "total",
            helpText: "a test counter"
        )
        self.registry.makeCounter(descriptor: descriptor, labels: [("kind", "a")]).increment(by: Int64(3))
        try await self.application().test(.live) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                let text = String(buffer: response.body)
                #expect(text.contains("# TYPE keystorm_test"), "\(text)")
                #expect(text.contains(#"{kind="a"} 3"#), "\(text)")
            }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#""status":"ready""#))
            }
            self.operations.ready.withLock { $0 = false }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try JSONDecoder().decode(AdminReadiness.self, from: Data(response.body.readableBytesView))
                #expect(body.status == "not ready")
                #expect(body.reason?.contains("root-key service does not answer") == true)
            }
        }
    }

    @Test("Every /v1 route is 401 without the token or with a wrong one, and runs with it")
    func tokenOnEveryV1Route() async throws {
        let routes: [(HTTPRequest.Method, String)] = [
            (.get, "/v1/cluster"), (.get, "/v1/tenants"), (.post, "/v1/tenants"), (.get, "/v1/clients"),
            (.post, "/v1/clients"),
            (.delete, "/v1/clients/r1"), (.get, "/v1/tenants/default/root-key"),
            (.post, "/v1/tenants/default/root-key/rotate"),
            (.delete, "/v1/tenants/default/root-key?confirm=default"), (.get, "/v1/tenants/default/keys"),
            (.post, "/v1/tenants/default/keys/k1/revoke"), (.post, "/v1/tenants/default/keys/k1/destroy"),
            (.post, "/v1/tenants/default/keys/prewarm"), (.get, "/v1/no-such-route"),
        ]
        try await self.application().test(.live) { client in
            for (method, uri) in routes {
                try await client.execute(uri: uri, method: method) { response in
                    #expect(response.status == .unauthorized, "\(method) \(uri)")
                    #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                }
                try await client.execute(
                    uri: uri,
                    method: method,
                    headers: [.authorization: "Bearer " + String(repeating: "f", count: 64)]
                ) {
                    #expect($0.status == .unauthorized, "\(method) \(uri) with a wrong token")
                }
            }
            #expect(self.operations.calls.withLock { $0 }.isEmpty)
            try await client.execute(uri: "/v1/tenants", method: .get, headers: self.bearer) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#""id":"default""#))
            }
            try await client.execute(uri: "/v1/cluster", method: .get, headers: self.bearer) { response in
                #expect(response.status == .ok)
                let status = try JSONDecoder().decode(ClusterStatus.self, from: Data(response.body.readableBytesView))
                #expect(status.store.role == "primary" && status.nodes.map(\.id) == ["node-a"])
            }
        }
    }

    @Test("The admin API with the token: created, conflicts, not found, confirmations and bad bodies")
    func adminAPI() async throws {
        try await self.application().test(.live) { client in
            try await client.execute(
                uri: "/v1/tenants",
                method: .post,
                headers: self.bearer,
                body: Self.json(#"{"id":"t2"}"#)
            ) { response in
                #expect(response.status == .created)
                let tenant = try JSONDecoder().decode(AdminTenant.self, from: Data(response.body.readableBytesView))
                #expect(tenant.id == "t2")
            }
            try await client.execute(
                uri: "/v1/tenants",
                method: .post,
                headers: self.bearer,
                body: Self.json(#"{"id":"t2"}"#)
            ) { response in
                #expect(response.status == .conflict)
                #expect(String(buffer: response.body).contains("already exists"))
            }
            try await client.execute(
                uri: "/v1/tenants",
                method: .post,
                headers: self.bearer,
                body: Self.json("not json")
            ) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(uri: "/v1/clients/r9", method: .delete, headers: self.bearer) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("no client rule r9"))
            }
            try await client.execute(uri: "/v1/tenants/t2/root-key", method: .delete, headers: self.bearer) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(uri: "/v1/tenants/t2/root-key?confirm=t2", method: .delete, headers: self.bearer) {
                #expect($0.status == .ok)
            }
            try await client.execute(
                uri: "/v1/tenants/t2/keys/k1/revoke",
                method: .post,
                headers: self.bearer,
                body: Self.json(#"{"compromised":true}"#)
            ) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/tenants/t2/keys/k2/revoke", method: .post, headers: self.bearer) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/tenants/t2/keys/prewarm?recent=7", method: .post, headers: self.bearer) {
                response in
                let result = try JSONDecoder().decode(
                    AdminPrewarmResult.self,
                    from: Data(response.body.readableBytesView)
                )
                #expect(result.unwrapped == 2)
            }
            try await client.execute(uri: "/v1/tenants/t2/keys?limit=5", method: .get, headers: self.bearer) {
                #expect($0.status == .ok)
            }
        }
        #expect(
            self.operations.calls.withLock { $0 } == [
                "createTenant t2", "createTenant t2", "delete t2", "revoke t2 k1 true", "revoke t2 k2 false",
                "prewarm t2 7", "keys t2 5",
            ]
        )
    }

    @Test("admin.metrics-token-required closes /metrics, /healthz and /readyz too")
    func metricsTokenRequired() async throws {
        try await self.application(metricsTokenRequired: true).test(.live) { client in
            for uri in ["/metrics", "/healthz", "/readyz"] {
                try await client.execute(uri: uri, method: .get) { #expect($0.status == .unauthorized, "\(uri)") }
                try await client.execute(uri: uri, method: .get, headers: self.bearer) {
                    #expect($0.status == .ok, "\(uri)")
                }
            }
        }
    }

    @Test("A non-loopback admin address is refused unless remote binding is allowed")
    func binding() throws {
        #expect(throws: AdminAPIError.self) { try AdminHTTPServer.checkBinding(host: "0.0.0.0", allowRemote: false) }
        #expect(throws: AdminAPIError.self) { try AdminHTTPServer.checkBinding(host: "10.1.2.3", allowRemote: false) }
        try AdminHTTPServer.checkBinding(host: "127.0.0.1", allowRemote: false)
        try AdminHTTPServer.checkBinding(host: "::1", allowRemote: false)
        try AdminHTTPServer.checkBinding(host: "0.0.0.0", allowRemote: true)
        do {
            try AdminHTTPServer.checkBinding(host: "0.0.0.0", allowRemote: false)
        } catch let error as AdminAPIError {
            #expect(error.message.contains("admin.allow-remote = true"))
        }
    }
}
