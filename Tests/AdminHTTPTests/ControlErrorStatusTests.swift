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
import KeystormControl
import Prometheus
import Testing

/// Operations that fail every call with one ``ControlError``.
struct FailingOperations: AdminOperations {
    let error: ControlError

    func tenants() async throws -> [AdminTenant] { throw self.error }
    func createTenant(_ request: AdminCreateTenant) async throws -> AdminTenant { throw self.error }
    func clients(tenant: String?) async throws -> [AdminClientRule] { throw self.error }
    func addClient(_ request: AdminAddClient) async throws -> [AdminClientRule] { throw self.error }
    func issueClient(_ request: AdminIssueClient) async throws -> AdminIssuedClient { throw self.error }
    func signCSR(_ request: AdminSignCSR) async throws -> AdminSignedCSR { throw self.error }
    func removeClient(id: String) async throws { throw self.error }
    func rootKeyStatus(tenant: String) async throws -> AdminRootKeyStatus { throw self.error }
    func rotateRootKey(tenant: String) async throws -> AdminRootKeyStatus { throw self.error }
    func deleteRootKey(tenant: String) async throws -> AdminRootKeyStatus { throw self.error }
    func keys(tenant: String, limit: Int) async throws -> AdminKeyList { throw self.error }
    func revokeKey(tenant: String, uniqueIdentifier: String, compromised: Bool) async throws { throw self.error }
    func destroyKey(tenant: String, uniqueIdentifier: String) async throws { throw self.error }
    func prewarm(tenant: String, recent: Int) async throws -> AdminPrewarmResult { throw self.error }
    func readiness() async -> AdminReadiness { .ready }
    func cluster() async throws -> ClusterStatus { throw self.error }
}

@Suite("Control-plane errors become HTTP statuses by code")
struct ControlErrorStatusTests {
    static let expected: [(ControlError.Code, Int)] = [
        (.invalidName, 400),
        (.badRequest, 400),
        (.notFound, 404),
        (.alreadyExists, 409),
        (.conflict, 409),
        (.permissionDenied, 403),
        (.rootKeyDeleted, 409),
        (.rootKeyDisabled, 409),
        (.providerMismatch, 409),
        (.diskFull, 507),
        (.storeUnavailable, 503),
        (.rootKeyServiceUnavailable, 503),
        (.internalError, 500),
    ]

    @Test("every code has its status")
    func everyCodeIsMapped() {
        #expect(Set(Self.expected.map(\.0)) == Set(ControlError.Code.allCases))
        for (code, status) in Self.expected {
            #expect(AdminRoutes.status(for: code).code == status, "\(code)")
        }
    }

    @Test("over HTTP, the status follows the code and the body is the reason", arguments: Self.expected)
    func statusOverHTTP(_ code: ControlError.Code, _ status: Int) async throws {
        // A reason that reads like another code: only the code decides.
        let error = ControlError(code, "no tenant 'x' already exists")
        let token = AdminToken.generate()
        let router = AdminRoutes.router(
            policy: AdminAccessPolicy(token: token, metricsTokenRequired: false),
            operations: FailingOperations(error: error),
            metrics: PrometheusCollectorRegistry()
        )
        let application = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await application.test(.live) { client in
            for (method, uri) in [
                (HTTPRequest.Method.get, "/v1/tenants"), (.delete, "/v1/clients/r1"), (.get, "/v1/tenants/t/root-key"),
                (.post, "/v1/tenants/t/keys/k/destroy"),
            ] {
                try await client.execute(uri: uri, method: method, headers: [.authorization: "Bearer \(token.text)"]) {
                    response in
                    #expect(Int(response.status.code) == status, "\(method) \(uri)")
                    let body = try JSONDecoder().decode(
                        AdminErrorBody.self,
                        from: Data(response.body.readableBytesView)
                    )
                    #expect(body.error == "no tenant 'x' already exists")
                }
            }
        }
    }
}
