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
import ArgumentParser
import AsyncHTTPClient
import Foundation
import KeystormControl
import NIOCore
import NIOHTTP1

/// The admin API of a `keystorm serve` running on the same data directory, for the operator
/// commands: when the server answers, `tenants`, `clients`, `keys` and `root-key` go through it
/// (so that a revoke or destroy purges the server's key cache at once and a prewarm fills it);
/// otherwise they work on the data directory directly.
///
/// The server writes its admin address to `admin.address` while it runs; the token is
/// `admin.token`. Set `KEYSTORM_ADMIN_API=off` to always work on the data directory.
struct AdminAPIClient: Sendable {
    /// `http://host:port`.
    let baseURL: String
    let token: String

    /// The running server's API, or `nil` when no server of this data directory answers.
    static func running(_ common: CommonOptions) async -> AdminAPIClient? {
        if ProcessInfo.processInfo.environment["KEYSTORM_ADMIN_API"]?.lowercased() == "off" { return nil }
        guard let settings = try? common.resolver() else { return nil }
        let directory = common.dataDirectory(settings)
        guard let token = try? AdminToken.load(at: directory.adminTokenPath),
            let text = try? String(contentsOfFile: directory.adminAddressPath, encoding: .utf8),
            var address = try? ListenAddress(
                parsing: text.trimmingCharacters(in: .whitespacesAndNewlines),
                setting: "admin.address"
            )
        else { return nil }
        // A wildcard listener answers on loopback too.
        if address.host == "0.0.0.0" { address.host = "127.0.0.1" }
        if address.host == "::" { address.host = "::1" }
        let client = AdminAPIClient(baseURL: "http://\(address)", token: token.text)
        // A stale file (the server was killed) or another server on the port (wrong token): direct.
        guard let probe = try? await client.request(.GET, "/v1/tenants", body: nil, timeout: .seconds(2)),
            probe.status == 200
        else {
            return nil
        }
        return client
    }

    /// Calls the API and decodes its answer; an error answer becomes the ``ControlError`` of its
    /// HTTP status with the server's message.
    func call<Response: Decodable>(
        _ method: HTTPMethod,
        _ path: String,
        body: (any Encodable)? = nil,
        as type: Response.Type = Response.self
    ) async throws -> Response {
        let encoded = try body.map { try JSONEncoder().encode($0) }
        let (status, data): (Int, Data)
        do {
            (status, data) = try await self.request(method, path, body: encoded, timeout: .seconds(120))
        } catch {
            throw ControlError(
                .storeUnavailable,
                "the running server's admin API at \(self.baseURL) did not answer \(method) \(path) (\(Swift.type(of: error)))"
            )
        }
        guard (200..<300).contains(status) else {
            let message = (try? JSONDecoder().decode(AdminErrorBody.self, from: data))?.error ?? "HTTP \(status)"
            throw ControlError(Self.code(status: status), message)
        }
        do {
            return try JSONDecoder().decode(Response.self, from: data)
        } catch {
            throw ControlError(.internalError, "the admin API's answer to \(method) \(path) does not decode")
        }
    }

    /// The control-plane code an admin API status stands for (the inverse of
    /// `AdminRoutes.status(for:)` up to codes that share a status).
    static func code(status: Int) -> ControlError.Code {
        switch status {
        case 400: .badRequest
        case 403: .permissionDenied
        case 404: .notFound
        case 409: .conflict
        case 503: .storeUnavailable
        case 507: .diskFull
        default: .internalError
        }
    }

    private func request(
        _ method: HTTPMethod,
        _ path: String,
        body: Data?,
        timeout: TimeAmount
    ) async throws -> (status: Int, data: Data) {
        var request = HTTPClientRequest(url: self.baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(self.token)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let buffer = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), Data(buffer.readableBytesView))
    }

    /// A path segment with everything but unreserved characters percent-encoded.
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
