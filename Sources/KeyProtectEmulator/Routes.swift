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
import Hummingbird
import NIOCore

/// The HTTP face of ``Emulator``: IAM, the Key Protect `/api/v2` calls and the admin endpoints.
///
/// Every IAM and `/api/v2` call is counted, then (for `/api/v2`) delayed by the configured
/// latency with `Task.sleep`, then answered 503 under an outage or by the error rate, then
/// authenticated, then (wrap/unwrap/rewrap) rate-limited, and only then served.
struct Routes: Sendable {
    let emulator: Emulator

    static let maximumBody = 1 << 20

    func register(on router: Router<BasicRequestContext>) {
        router.post("identity/token") { request, _ in
            await self.iam(request)
        }
        self.registerAdmin(on: router)
        router.post("api/v2/keys") { request, _ in
            await self.api("create", request, keyAction: false) { (body) throws(KPError) in try await self.create(body)
            }
        }
        router.get("api/v2/keys") { request, _ in
            await self.api("list", request, keyAction: false) { (_) throws(KPError) in try self.list() }
        }
        router.get("api/v2/keys/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            return await self.api("get", request, keyAction: false) { (_) throws(KPError) in
                try self.emulator.read { vault throws(KPError) in
                    Self.collection(type: "application/vnd.ibm.kms.key+json", [try KeyResource(vault.key(id), self)])
                }
            }
        }
        router.get("api/v2/keys/:id/versions") { request, context in
            let id = context.parameters.get("id") ?? ""
            return await self.api("versions", request, keyAction: false) { (_) throws(KPError) in
                try self.emulator.read { vault throws(KPError) in
                    let key = try vault.key(id)
                    return Self.collection(
                        type: "application/vnd.ibm.kms.key+json",
                        key.versions.reversed().map { VersionResource(id: $0.id, creationDate: $0.creationDate) }
                    )
                }
            }
        }
        router.delete("api/v2/keys/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            return await self.api("delete", request, keyAction: false) { (_) throws(KPError) in
                let key = try await self.emulator.mutate { (vault) throws(KPError) in try vault.delete(id, now: Date())
                }
                return Self.collection(type: "application/vnd.ibm.kms.key+json", [KeyResource(key, self)])
            }
        }
        router.post("api/v2/keys/:id/actions/:action") { request, context in
            let id = context.parameters.get("id") ?? ""
            let action = context.parameters.get("action") ?? ""
            let keyAction = ["wrap", "unwrap", "rewrap"].contains(action)
            // Unknown actions count as "other", so clients cannot grow the counters.
            let kind = keyAction || ["rotate", "disable", "enable"].contains(action) ? action : "other"
            return await self.api(kind, request, keyAction: keyAction) { (body) throws(KPError) in
                try await self.action(action, id: id, body: body)
            }
        }
    }

    /// The admin endpoints (no authentication): faults and counters.
    func registerAdmin(on router: Router<BasicRequestContext>) {
        router.get("admin/faults") { _, _ in
            Self.json(200, self.emulator.faults)
        }
        router.put("admin/faults") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: Self.maximumBody)
            var faults = self.emulator.faults
            do {
                faults.apply(try JSONDecoder().decode(FaultsPatch.self, from: Data(body.readableBytesView)))
            } catch {
                return Self.error(.badRequest("invalid faults: \(error)"))
            }
            if let invalidity = faults.invalidity { return Self.error(.badRequest(invalidity)) }
            self.emulator.setFaults(faults)
            return Self.json(200, faults)
        }
        router.get("admin/stats") { _, _ in
            Self.json(200, self.emulator.stats)
        }
        router.post("admin/stats/reset") { _, _ in
            self.emulator.resetStats()
            return Response(status: .noContent)
        }
    }

    // MARK: IAM

    private func iam(_ request: Request) async -> Response {
        self.emulator.begin("token")
        var status = 500
        defer { self.emulator.end(status: status) }
        let response: Response
        if self.emulator.faults.outage {
            response = Self.error(.serviceUnavailable)
        } else {
            var request = request
            let body =
                (try? await request.collectBody(upTo: Self.maximumBody)).map { Data($0.readableBytesView) } ?? Data()
            let form = Self.form(String(decoding: body, as: UTF8.self))
            if form["grant_type"] != "urn:ibm:params:oauth:grant-type:apikey" {
                response = Self.json(
                    400,
                    IAMError(errorCode: "BXNIM0109E", errorMessage: "Property missing or empty. Property: grant_type")
                )
            } else if let apiKey = form["apikey"], self.emulator.accepts(apiKey: apiKey) {
                let ttl = self.emulator.configuration.tokenTTL
                let (token, expiration) = self.emulator.issueToken(now: Date())
                response = Self.json(
                    200,
                    TokenResponse(
                        access_token: token,
                        refresh_token: "not_supported",
                        token_type: "Bearer",
                        expires_in: ttl,
                        expiration: expiration
                    )
                )
            } else {
                response = Self.json(
                    400,
                    IAMError(errorCode: "BXNIM0415E", errorMessage: "Provided API key could not be found.")
                )
            }
        }
        status = response.status.code
        return response
    }

    // MARK: /api/v2

    /// Counts, delays, injects faults, authenticates, rate-limits, then runs `body` with the
    /// request body; echoes `correlation-id`.
    private func api(
        _ kind: String,
        _ request: Request,
        keyAction: Bool,
        _ body: (Data) async throws(KPError) -> Response
    ) async -> Response {
        self.emulator.begin(kind)
        var response: Response
        let faults = self.emulator.faults
        let delay = faults.latencyMs + (faults.jitterMs > 0 ? Int.random(in: 0...faults.jitterMs) : 0)
        if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
        let current = self.emulator.faults
        if current.outage || (current.errorRate > 0 && Double.random(in: 0..<1) < current.errorRate) {
            response = Self.error(.serviceUnavailable)
        } else if let refusal = self.authenticate(request) {
            response = Self.error(refusal)
        } else if keyAction && !self.emulator.admitKeyAction() {
            response = Self.error(.tooManyRequests)
            response.headers[.retryAfter] = String(current.retryAfterSeconds)
        } else {
            var request = request
            do {
                let bytes = try await request.collectBody(upTo: Self.maximumBody)
                response = try await body(Data(bytes.readableBytesView))
            } catch let error as KPError {
                response = Self.error(error)
            } catch {
                response = Self.error(.badRequest("cannot read the request body"))
            }
        }
        if let correlation = request.headers[Self.correlationID] {
            response.headers[Self.correlationID] = correlation
        }
        self.emulator.end(status: response.status.code)
        return response
    }

    // HTTPField is HTTPTypes', which Hummingbird re-exports only as HTTPFields.
    static let correlationID = HTTPFields.Element.Name("correlation-id")!
    static let bluemixInstance = HTTPFields.Element.Name("bluemix-instance")!

    /// The refusal of a request without a valid bearer token for this instance, if any.
    private func authenticate(_ request: Request) -> KPError? {
        guard let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer "),
            self.emulator.validates(
                token: String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces),
                now: Date()
            )
        else {
            return .unauthorized("The provided IAM token is missing, invalid or expired")
        }
        guard let instance = request.headers[Self.bluemixInstance], !instance.isEmpty else {
            return KPError(status: 400, code: "BAD_REQUEST_ERR", message: "The bluemix-instance header is required")
        }
        guard instance == self.emulator.configuration.instanceID else {
            return .unauthorized("The IAM token is not authorized for instance \(instance)")
        }
        return nil
    }

    private func create(_ body: Data) async throws(KPError) -> Response {
        guard let request = try? JSONDecoder().decode(CreateRequest.self, from: body),
            let resource = request.resources.first, request.resources.count == 1
        else { throw .badRequest("the body must hold one key resource") }
        guard !resource.name.isEmpty, resource.name.count <= 90 else {
            throw .badRequest("the key name must have 1 to 90 characters")
        }
        if resource.extractable == true { throw .badRequest("the emulator creates root keys only (extractable false)") }
        if resource.payload != nil { throw .badRequest("the emulator does not import key material") }
        let key = try await self.emulator.mutate { vault in vault.create(name: resource.name, now: Date()) }
        return Self.collection(status: 201, type: "application/vnd.ibm.kms.key+json", [KeyResource(key, self)])
    }

    private func list() throws(KPError) -> Response {
        try self.emulator.read { vault in
            // As Key Protect's default state filter: destroyed keys are not listed.
            Self.collection(
                type: "application/vnd.ibm.kms.key+json",
                vault.allKeys.filter { $0.state != .destroyed }.map { KeyResource($0, self) }
            )
        }
    }

    private func action(_ action: String, id: String, body: Data) async throws(KPError) -> Response {
        switch action {
        case "wrap":
            let request = try Self.decode(WrapRequest.self, body)
            try Self.check(aad: request.aad)
            let generated = request.plaintext == nil
            let plaintext: Data
            if let text = request.plaintext {
                plaintext = try Self.plaintext(text)
            } else {
                plaintext = Vault.newKeyMaterial()
            }
            let version = try self.emulator.read { vault throws(KPError) in
                let key = try vault.key(id)
                try key.checkUsable(forWrap: true)
                return key.currentVersion
            }
            let ciphertext = try CiphertextEnvelope.seal(plaintext, under: version, aad: request.aad)
            return Self.json(
                200,
                WrapResponse(
                    ciphertext: ciphertext,
                    plaintext: generated ? plaintext.base64EncodedString() : nil,
                    keyVersion: .init(id: version.id)
                )
            )
        case "unwrap", "rewrap":
            let request = try Self.decode(UnwrapRequest.self, body)
            try Self.check(aad: request.aad)
            let envelope = try CiphertextEnvelope.parse(request.ciphertext)
            let (version, current) = try self.emulator.read { vault throws(KPError) in
                let key = try vault.key(id)
                try key.checkUsable(forWrap: false)
                guard let version = key.versions.first(where: { $0.id == envelope.handle }) else {
                    throw KPError.unprocessableCiphertext
                }
                return (version, key.currentVersion)
            }
            let plaintext = try envelope.open(with: version, aad: request.aad)
            let stale = version.id != current.id
            var rewrapped: String?
            if action == "rewrap" || stale {
                rewrapped = try CiphertextEnvelope.seal(plaintext, under: current, aad: request.aad)
            }
            if action == "rewrap" {
                return Self.json(
                    200,
                    UnwrapResponse(
                        plaintext: nil,
                        ciphertext: rewrapped,
                        keyVersion: .init(id: version.id),
                        rewrappedKeyVersion: .init(id: current.id)
                    )
                )
            }
            return Self.json(
                200,
                UnwrapResponse(
                    plaintext: plaintext.base64EncodedString(),
                    ciphertext: rewrapped,
                    keyVersion: .init(id: version.id),
                    rewrappedKeyVersion: stale ? .init(id: current.id) : nil
                )
            )
        case "rotate":
            let interval = self.emulator.configuration.minimumRotationInterval
            try await self.emulator.mutate { (vault) throws(KPError) in
                try vault.rotate(id, now: Date(), minimumInterval: interval)
            }
            return Response(status: .noContent)
        case "disable", "enable":
            try await self.emulator.mutate { (vault) throws(KPError) in
                try vault.setEnabled(id, action == "enable", now: Date())
            }
            return Response(status: .noContent)
        default:
            // Unknown actions: 400 as Key Protect answers them; missing keys first.
            _ = try self.emulator.read { vault throws(KPError) in try vault.key(id) }
            throw KPError(status: 400, code: "INVALID_ACTION_ERR", message: "unsupported action \(action)")
        }
    }

    // MARK: Validation

    private static func decode<T: Decodable>(_ type: T.Type, _ body: Data) throws(KPError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: body.isEmpty ? Data("{}".utf8) : body)
        } catch {
            throw .badRequest("the request body is not valid for this action")
        }
    }

    private static func plaintext(_ text: String) throws(KPError) -> Data {
        guard let data = Data(base64Encoded: text) else { throw .badRequest("plaintext must be base64") }
        guard (1...4096).contains(data.count) else { throw .badRequest("plaintext must have 1 to 4096 bytes") }
        return data
    }

    private static func check(aad: [String]?) throws(KPError) {
        guard let aad else { return }
        if aad.count > 255 || aad.contains(where: { $0.count > 255 }) {
            throw .badRequest("aad: at most 255 strings of at most 255 characters")
        }
    }

    // MARK: Rendering

    static func json(_ status: Int, _ value: some Encodable) -> Response {
        let data = (try? JSONEncoder.emulator.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: .init(code: status),
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    static func error(_ error: KPError) -> Response {
        Response(
            status: .init(code: error.status),
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: error.envelope))
        )
    }

    static func collection<T: Encodable>(status: Int = 200, type: String, _ resources: [T]) -> Response {
        Self.json(
            status,
            Collection(
                metadata: .init(collectionType: type, collectionTotal: resources.count),
                resources: resources
            )
        )
    }

    /// `application/x-www-form-urlencoded` fields.
    static func form(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part)
            }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }
}

// MARK: Bodies

struct Collection<T: Encodable>: Encodable {
    var metadata: KPError.Metadata
    var resources: [T]
}

/// A key as Key Protect renders it.
struct KeyResource: Encodable {
    struct Version: Encodable {
        var id: String
        var creationDate: String
    }
    struct DualAuth: Encodable {
        var enabled: Bool
    }
    var type = "application/vnd.ibm.kms.key+json"
    var id: String
    var name: String
    var state: Int
    var extractable = false
    var crn: String
    var keyVersion: Version
    var deleted: Bool
    var deletionDate: String?
    var dualAuthDelete = DualAuth(enabled: false)
    var creationDate: String
    var lastUpdateDate: String
    var algorithmType = "AES"
    var createdBy = "IBMid-emulator"
    var keyRingID = "default"

    init(_ key: RootKey, _ routes: Routes) {
        self.id = key.id
        self.name = key.name
        self.state = key.state.rawValue
        self.crn =
            "crn:v1:bluemix:public:kms:local:a/emulator:\(routes.emulator.configuration.instanceID):key:\(key.id)"
        self.keyVersion = .init(id: key.currentVersion.id, creationDate: key.currentVersion.creationDate.iso8601)
        self.deleted = key.state == .destroyed
        self.deletionDate = key.deletionDate?.iso8601
        self.creationDate = key.creationDate.iso8601
        self.lastUpdateDate = key.lastUpdateDate.iso8601
    }
}

struct VersionResource: Encodable {
    var id: String
    var creationDateValue: Date

    init(id: String, creationDate: Date) {
        self.id = id
        self.creationDateValue = creationDate
    }

    private enum CodingKeys: String, CodingKey { case id, creationDate }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id, forKey: .id)
        try container.encode(self.creationDateValue.iso8601, forKey: .creationDate)
    }
}

struct CreateRequest: Decodable {
    struct Resource: Decodable {
        var name: String
        var extractable: Bool?
        var payload: String?
    }
    var resources: [Resource]
}

struct WrapRequest: Decodable {
    var plaintext: String?
    var aad: [String]?
}

struct UnwrapRequest: Decodable {
    var ciphertext: String
    var aad: [String]?
}

struct VersionID: Encodable {
    var id: String
}

struct WrapResponse: Encodable {
    var ciphertext: String
    var plaintext: String?
    var keyVersion: VersionID
}

struct UnwrapResponse: Encodable {
    var plaintext: String?
    var ciphertext: String?
    var keyVersion: VersionID
    var rewrappedKeyVersion: VersionID?
}

struct TokenResponse: Encodable {
    // swift-format-ignore: AlwaysUseLowerCamelCase
    var access_token: String
    var refresh_token: String
    var token_type: String
    var expires_in: Int
    var expiration: Int
}

struct IAMError: Encodable {
    var errorCode: String
    var errorMessage: String
}

extension Date {
    /// `2026-01-02T03:04:05Z`.
    var iso8601: String { self.formatted(.iso8601) }
}
