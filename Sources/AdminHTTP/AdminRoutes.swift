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

public import Hummingbird
import NIOCore
public import Prometheus
import Synchronization

/// The admin listener's routes.
///
/// ```
/// GET    /metrics                                   Prometheus text format 0.0.4
/// GET    /healthz                                   200 while the process runs
/// GET    /readyz                                    200, or 503 {"status": "not ready", "reason": ...}
/// GET    /v1/cluster                                {"store": {...}, "nodes": [...], "readAt": T}
/// GET    /v1/tenants                                {"tenants": [...]}
/// POST   /v1/tenants                                {"id": ..., "displayName": ...} -> 201 tenant
/// GET    /v1/clients[?tenant=T]                     {"clients": [...]}
/// POST   /v1/clients                                {"tenant", "kind": "pinned"|"ca", "pem", "label"} -> 201
/// POST   /v1/clients/issue                          {"tenant", "name"} -> 201 {"rule", "certificatePath", "keyPath"}
/// POST   /v1/clients/sign-csr                       {"tenant", "csr", "label"} -> 201 {"rule", "subject", "certificate"}
/// DELETE /v1/clients/{id}                           {"removed": id}
/// GET    /v1/tenants/{t}/root-key                   root-key status
/// POST   /v1/tenants/{t}/root-key/rotate            root-key status after the rotation
/// DELETE /v1/tenants/{t}/root-key?confirm={t}       crypto-shreds the tenant's keys
/// GET    /v1/tenants/{t}/keys[?limit=N]             {"keys": [...], "total": N}
/// POST   /v1/tenants/{t}/keys/{uid}/revoke          {"compromised": false}
/// POST   /v1/tenants/{t}/keys/{uid}/destroy
/// POST   /v1/tenants/{t}/keys/prewarm[?recent=N]    {"unwrapped": N, "failed": M}
/// ```
public enum AdminRoutes {
    /// The `Content-Type` of `/metrics`.
    public static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Builds the router.
    ///
    /// - Parameters:
    ///   - policy: Who may call which route.
    ///   - operations: What the `/v1` routes and `/readyz` do.
    ///   - metrics: The registry `/metrics` renders.
    ///   - beforeScrape: Runs before each `/metrics` rendering (to fold counters kept elsewhere,
    ///     such as the reactor's, into the registry).
    ///   - log: Where unexpected route errors are reported.
    public static func router(
        policy: AdminAccessPolicy,
        operations: any AdminOperations,
        metrics: PrometheusCollectorRegistry,
        beforeScrape: @escaping @Sendable () async -> Void = {},
        log: @escaping @Sendable (String) -> Void = { _ in },
        bodyTimeout: Duration = .seconds(10)
    ) -> Router<AdminRequestContext> {
        let router = Router(context: AdminRequestContext.self)
        router.add(middleware: AdminErrorMiddleware(log: log))
        router.add(middleware: AdminAccessMiddleware(policy: policy))
        router.add(middleware: AdminBodyDeadlineMiddleware(timeout: bodyTimeout))
        let renderer = MetricsRenderer(registry: metrics)

        router.get("/healthz") { _, _ in
            AdminJSON.response(["status": "alive"])
        }
        router.get("/readyz") { _, _ in
            let readiness = await operations.readiness()
            return AdminJSON.response(readiness, status: readiness.isReady ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            await beforeScrape()
            return Response(
                status: .ok,
                headers: [.contentType: Self.metricsContentType],
                body: ResponseBody(byteBuffer: renderer.render())
            )
        }

        Self.addTenantAndClientRoutes(to: router.group("v1"), operations: operations)
        Self.addKeyRoutes(to: router.group("v1"), operations: operations)
        return router
    }

    /// `/v1/tenants`, `/v1/clients` and the root-key routes.
    static func addTenantAndClientRoutes(
        to v1: RouterGroup<AdminRequestContext>,
        operations: any AdminOperations
    ) {
        v1.get("cluster") { _, _ in
            AdminJSON.response(try await operations.cluster())
        }
        v1.get("tenants") { _, _ in
            AdminJSON.response(["tenants": try await operations.tenants()])
        }
        v1.post("tenants") { request, context in
            let body = try await request.decode(as: AdminCreateTenant.self, context: context)
            return AdminJSON.response(try await operations.createTenant(body), status: .created)
        }
        v1.get("clients") { request, _ in
            let tenant = request.uri.queryParameters["tenant"].map(String.init)
            return AdminJSON.response(["clients": try await operations.clients(tenant: tenant)])
        }
        v1.post("clients") { request, context in
            let body = try await request.decode(as: AdminAddClient.self, context: context)
            return AdminJSON.response(["clients": try await operations.addClient(body)], status: .created)
        }
        v1.post("clients/issue") { request, context in
            let body = try await request.decode(as: AdminIssueClient.self, context: context)
            return AdminJSON.response(try await operations.issueClient(body), status: .created)
        }
        v1.post("clients/sign-csr") { request, context in
            let body = try await request.decode(as: AdminSignCSR.self, context: context)
            return AdminJSON.response(try await operations.signCSR(body), status: .created)
        }
        v1.delete("clients/:id") { _, context in
            let id = try context.parameters.require("id")
            try await operations.removeClient(id: id)
            return AdminJSON.response(["removed": id])
        }
        v1.get("tenants/:tenant/root-key") { _, context in
            AdminJSON.response(try await operations.rootKeyStatus(tenant: try context.parameters.require("tenant")))
        }
        v1.post("tenants/:tenant/root-key/rotate") { _, context in
            AdminJSON.response(try await operations.rotateRootKey(tenant: try context.parameters.require("tenant")))
        }
        v1.delete("tenants/:tenant/root-key") { request, context in
            let tenant = try context.parameters.require("tenant")
            guard request.uri.queryParameters["confirm"].map(String.init) == tenant else {
                throw AdminAPIError(
                    .badRequest,
                    "deleting a root key shreds every key of the tenant: repeat the tenant id as ?confirm=\(tenant)"
                )
            }
            return AdminJSON.response(try await operations.deleteRootKey(tenant: tenant))
        }
    }

    /// `/v1/tenants/:tenant/keys` and its revoke, destroy and prewarm routes.
    static func addKeyRoutes(to v1: RouterGroup<AdminRequestContext>, operations: any AdminOperations) {
        v1.get("tenants/:tenant/keys") { request, context in
            let tenant = try context.parameters.require("tenant")
            let limit = request.uri.queryParameters.get("limit", as: Int.self) ?? 1000
            guard limit >= 0 else { throw AdminAPIError(.badRequest, "limit must not be negative") }
            return AdminJSON.response(try await operations.keys(tenant: tenant, limit: limit))
        }
        v1.post("tenants/:tenant/keys/prewarm") { request, context in
            let tenant = try context.parameters.require("tenant")
            let recent = request.uri.queryParameters.get("recent", as: Int.self) ?? 1000
            guard recent > 0 else { throw AdminAPIError(.badRequest, "recent must be at least 1") }
            return AdminJSON.response(try await operations.prewarm(tenant: tenant, recent: recent))
        }
        v1.post("tenants/:tenant/keys/:uid/revoke") { request, context in
            let tenant = try context.parameters.require("tenant")
            let uid = try context.parameters.require("uid")
            let body = try await Self.optionalBody(AdminRevokeKey.self, request, context) ?? AdminRevokeKey()
            try await operations.revokeKey(
                tenant: tenant,
                uniqueIdentifier: uid,
                compromised: body.compromised ?? false
            )
            return AdminJSON.response(["revoked": uid])
        }
        v1.post("tenants/:tenant/keys/:uid/destroy") { _, context in
            let tenant = try context.parameters.require("tenant")
            let uid = try context.parameters.require("uid")
            try await operations.destroyKey(tenant: tenant, uniqueIdentifier: uid)
            return AdminJSON.response(["destroyed": uid])
        }
    }

    /// A JSON body when the request has one; `nil` for an empty body.
    static func optionalBody<T: Decodable>(
        _ type: T.Type,
        _ request: Request,
        _ context: AdminRequestContext
    ) async throws -> T? {
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return nil }
        return try await request.decode(as: type, context: context)
    }
}

/// Renders the registry into one reused byte buffer (house rule 11): a scrape allocates only the
/// response's copy.
final class MetricsRenderer: Sendable {
    let registry: PrometheusCollectorRegistry
    private let buffer = Mutex<[UInt8]>([])

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func render() -> ByteBuffer {
        self.buffer.withLock { buffer in
            buffer.removeAll(keepingCapacity: true)
            self.registry.emit(into: &buffer)
            return ByteBuffer(bytes: buffer)
        }
    }
}
