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
public import Hummingbird
import KeystormControl
public import NIOCore

/// The admin listener's request context: Hummingbird's core context plus the peer's address,
/// which ``AdminAccessPolicy`` checks.
public struct AdminRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer, from the accepted channel.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Admin requests are small: a PEM bundle at most.
    public var maxUploadSize: Int { 1 << 20 }
}

/// Applies ``AdminAccessPolicy`` before any route runs: 403 for a peer off the loopback network,
/// 401 (with `WWW-Authenticate: Bearer`) for a missing or wrong token.
struct AdminAccessMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext
    let policy: AdminAccessPolicy

    func handle(
        _ request: Request,
        context: AdminRequestContext,
        next: (Request, AdminRequestContext) async throws -> Response
    ) async throws -> Response {
        let decision = self.policy.decide(
            path: request.uri.path,
            peerIP: context.remoteAddress?.ipAddress,
            authorization: request.headers[.authorization]
        )
        switch decision {
        case .allow:
            return try await next(request, context)
        case .unauthorized:
            var response = AdminJSON.response(
                AdminErrorBody(error: "a valid bearer token is required (see admin.token in the data directory)"),
                status: .unauthorized
            )
            response.headers[.wwwAuthenticate] = "Bearer realm=\"keystorm-admin\""
            return response
        case .forbidden:
            return AdminJSON.response(
                AdminErrorBody(error: "the admin API answers loopback peers only (admin.remote-peers admits others)"),
                status: .forbidden
            )
        }
    }
}

/// Turns ``AdminAPIError`` and every other error of a route into a JSON error body.
struct AdminErrorMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext
    let log: @Sendable (String) -> Void

    func handle(
        _ request: Request,
        context: AdminRequestContext,
        next: (Request, AdminRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as AdminAPIError {
            return AdminJSON.response(AdminErrorBody(error: error.message), status: .init(code: error.status))
        } catch let error as ControlError {
            let status = AdminRoutes.status(for: error.code)
            if status == .internalServerError {
                self.log(
                    "admin API \(request.method) \(request.uri.path) failed: \(error.reason) (\(error.file):\(error.line))"
                )
            }
            return AdminJSON.response(AdminErrorBody(error: error.reason), status: status)
        } catch let error as any HTTPResponseError {
            return AdminJSON.response(
                AdminErrorBody(error: "\(error.status.reasonPhrase): the request is not valid"),
                status: error.status
            )
        } catch {
            self.log("admin API \(request.method) \(request.uri.path) failed: \(error)")
            return AdminJSON.response(AdminErrorBody(error: "internal error: \(error)"), status: .internalServerError)
        }
    }
}

/// JSON responses with sorted keys.
enum AdminJSON {
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Safe: the admin models are plain strings, numbers and arrays.
        var data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        data.append(0x0a)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}

/// Reads a request's whole body (at most ``AdminRequestContext/maxUploadSize`` bytes) within
/// `timeout`, before any route sees it: a client that sends a body a byte at a time cannot hold a
/// handler, and gets 408. Requests without a body pass straight through.
struct AdminBodyDeadlineMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext
    let timeout: Duration

    func handle(
        _ request: Request,
        context: AdminRequestContext,
        next: (Request, AdminRequestContext) async throws -> Response
    ) async throws -> Response {
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        let chunked = request.headers[.transferEncoding] != nil
        guard chunked || (declared ?? 0) > 0 else { return try await next(request, context) }
        if let declared, declared > context.maxUploadSize {
            throw AdminAPIError(.payloadTooLarge, "the request body is larger than \(context.maxUploadSize) bytes")
        }
        let limit = context.maxUploadSize
        let timeout = self.timeout
        let buffered = try await withThrowingTaskGroup(of: Request?.self) { group in
            group.addTask {
                var request = request
                _ = try await request.collectBody(upTo: limit)
                return request
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let request = first else {
                throw AdminAPIError(.requestTimeout, "the request body did not arrive within \(timeout)")
            }
            return request
        }
        return try await next(buffered, context)
    }
}
