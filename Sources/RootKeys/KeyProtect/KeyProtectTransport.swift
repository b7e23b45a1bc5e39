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

import AsyncHTTPClient
import Dispatch
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// One request to Key Protect, as the provider describes it.
struct KeyProtectCall: Sendable {
    /// What the call does, for errors and logs: `wrap`, `get key`...
    var operation: String
    /// The root key it concerns, if any (named in errors; an id, not material).
    var rootKeyID: String?
    var method: HTTPMethod
    /// From the endpoint's root, e.g. `/api/v2/keys/<id>/actions/wrap`.
    var path: String
    var contentType: String?
    var body: ByteBuffer?
    /// Statuses besides 2xx the caller wants back instead of an error (e.g. 410 on delete).
    var accepting: Set<Int> = []
}

/// An HTTP answer, body collected.
struct KeyProtectResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
}

/// Sends Key Protect and IAM requests over one pooled `HTTPClient`: adds the headers, fetches and
/// caches the bearer token, retries as ``KeyProtectRetryPolicy`` says, refreshes the token once on
/// a 401, and turns failures into ``RootKeyError``s that name the call's correlation-id.
final class KeyProtectTransport: Sendable {
    /// The largest answer read; Key Protect's are a few hundred bytes.
    static let maxResponseBytes = 1 << 20

    let client: HTTPClient
    let configuration: KeyProtectRootKeyService.Configuration
    let counters: KeyProtectCounters
    private let tokens = KeyProtectTokenCache()
    let breaker: KeyProtectOutageBreaker
    private let endpoint: String

    init(configuration: KeyProtectRootKeyService.Configuration, counters: KeyProtectCounters) {
        var http = HTTPClient.Configuration(
            tlsConfiguration: configuration.tlsConfiguration,
            redirectConfiguration: .disallow,
            timeout: HTTPClient.Configuration.Timeout(
                connect: Self.timeAmount(configuration.connectTimeout),
                read: Self.timeAmount(configuration.requestTimeout)
            ),
            connectionPool: HTTPClient.Configuration.ConnectionPool(
                idleTimeout: .seconds(60),
                concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, configuration.maxConnectionsPerHost)
            )
        )
        http.httpVersion = .automatic
        // A refused connection fails the attempt at once; KeyProtectRetryPolicy decides about the
        // next one (the pool's own reconnect loop would spend the whole budget on one attempt).
        http.connectionPool.retryConnectionEstablishment = false
        self.client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: http)
        self.configuration = configuration
        self.counters = counters
        self.breaker = KeyProtectOutageBreaker(
            threshold: configuration.outageThreshold,
            initialCooldown: configuration.outageCooldown,
            maxCooldown: configuration.outageMaxCooldown
        )
        var endpoint = configuration.endpoint
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        self.endpoint = endpoint
    }

    /// A provider dropped without ``shutdown()`` still closes its pool: the client shuts down in the
    /// background and stays alive until it has.
    deinit {
        self.client.shutdown(queue: .global()) { _ in }
    }

    func shutdown() async throws {
        try await self.client.shutdown()
    }

    /// Sends `call` to the Key Protect API and returns a 2xx answer (or one of `call.accepting`).
    ///
    /// - Throws: ``RootKeyError`` mapped from Key Protect's error envelope; ``RootKeyError/unavailable``
    ///   or ``RootKeyError/rateLimited`` once retries or the budget run out; ``RootKeyError/unauthorized``
    ///   when IAM refuses the API key or a fresh token is refused too.
    func send(_ call: KeyProtectCall) async throws -> KeyProtectResponse {
        let correlationID = UUID().uuidString.lowercased()
        var retriedUnauthorized = false
        while true {
            let token = try await self.tokens.token(fetch: { try await self.fetchToken() })
            var request = HTTPClientRequest(url: self.endpoint + call.path)
            request.method = call.method
            request.headers.add(name: "authorization", value: "Bearer " + token)
            request.headers.add(name: "bluemix-instance", value: self.configuration.instanceID)
            if let keyRing = self.configuration.keyRing { request.headers.add(name: "x-kms-key-ring", value: keyRing) }
            request.headers.add(name: "correlation-id", value: correlationID)
            if let contentType = call.contentType {
                request.headers.add(name: "content-type", value: contentType)
                request.headers.add(name: "accept", value: contentType)
            } else {
                request.headers.add(name: "accept", value: "application/json")
            }
            if let body = call.body { request.body = .bytes(body) }
            let response = try await self.execute(request, call: call, correlationID: correlationID, counted: true)
            if response.status == 401, !retriedUnauthorized {
                // The token expired early or was revoked: fetch a new one and try once more.
                retriedUnauthorized = true
                self.counters.increment(.unauthorizedRetries)
                self.tokens.invalidate(token)
                continue
            }
            if (200..<300).contains(response.status) || call.accepting.contains(response.status) { return response }
            let error = KeyProtectErrors.error(
                status: response.status,
                body: response.body,
                operation: call.operation,
                rootKeyID: call.rootKeyID,
                correlationID: correlationID
            )
            self.log(error, call: call, correlationID: correlationID)
            throw error
        }
    }

    /// Fetches a token from IAM (with the same retries as the API).
    private func fetchToken() async throws -> KeyProtectTokenCache.Token {
        let correlationID = UUID().uuidString.lowercased()
        let call = KeyProtectCall(operation: "IAM token", rootKeyID: nil, method: .POST, path: "", contentType: nil)
        var form = Array("grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=".utf8)
        form.reserveCapacity(form.count + self.configuration.apiKey.utf8.count * 3)
        Self.appendFormEncoded(self.configuration.apiKey, to: &form)
        var request = HTTPClientRequest(url: self.configuration.iamEndpoint)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "accept", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: form))
        SecretBytes.wipe(&form)
        let started = ContinuousClock.now
        self.counters.increment(.tokenRefreshes)
        let response = try await self.execute(request, call: call, correlationID: correlationID, counted: false)
        guard response.status == 200 else {
            let error: RootKeyError
            if [400, 401, 403].contains(response.status) {
                let iam = try? JSONDecoder().decode(KeyProtectWire.IAMError.self, from: Data(response.body))
                let detail = [iam?.errorCode, iam?.errorMessage].compactMap { $0 }.joined(separator: " ")
                error = RootKeyError(
                    .unauthorized,
                    reason: "IAM refused Keystorm's API key (HTTP \(response.status)"
                        + (detail.isEmpty ? "" : ": \(KeyProtectErrors.clip(detail))") + ")"
                )
            } else {
                error = RootKeyError(.unavailable, reason: "IAM answered HTTP \(response.status) to a token request")
            }
            self.log(error, call: call, correlationID: correlationID)
            throw error
        }
        let token = try KeyProtectWire.decode(
            KeyProtectWire.IAMToken.self,
            from: response.body,
            what: "a token request"
        )
        let lifetime = Duration.seconds(max(1, token.expiresIn ?? 600))
        return KeyProtectTokenCache.Token(value: token.accessToken, obtainedAt: started, lifetime: lifetime)
    }

    /// Executes `request`, retrying 429, 5xx (except 501) and connection failures within the retry
    /// policy. Returns the first other answer (or the last retryable one's error).
    private func execute(
        _ request: HTTPClientRequest,
        call: KeyProtectCall,
        correlationID: String,
        counted: Bool
    ) async throws -> KeyProtectResponse {
        let probe = try self.admit(correlationID: correlationID)
        // A probe ending without news (cancelled, a local error) lets the next call probe.
        var reported = false
        defer { if probe, !reported { self.breaker.abandonProbe() } }
        let policy = self.configuration.retry
        let started = ContinuousClock.now
        var random = SystemRandomNumberGenerator()
        var retry = 0
        while true {
            let failure: RootKeyError
            var retryAfter: Duration?
            do {
                if counted { self.counters.increment(.requests) }
                let response = try await self.client.execute(
                    request,
                    timeout: Self.timeAmount(self.configuration.requestTimeout)
                )
                let body = try await response.body.collect(upTo: Self.maxResponseBytes)
                let status = Int(response.status.code)
                if !(500...599).contains(status) {
                    self.answered()
                    reported = true
                }
                guard KeyProtectRetryPolicy.isRetryable(status: status) else {
                    return KeyProtectResponse(
                        status: status,
                        headers: response.headers,
                        body: Array(body.readableBytesView)
                    )
                }
                if status == 429 {
                    self.counters.increment(.rateLimited)
                    retryAfter = KeyProtectRetryPolicy.parseRetryAfter(response.headers.first(name: "retry-after"))
                } else {
                    self.counters.increment(.serverErrors)
                }
                failure = KeyProtectErrors.error(
                    status: status,
                    body: Array(body.readableBytesView),
                    operation: call.operation,
                    rootKeyID: call.rootKeyID,
                    correlationID: correlationID
                )
            } catch let error where Self.isRetryable(error) {
                self.counters.increment(.connectionErrors)
                failure = RootKeyError(
                    .unavailable,
                    reason: "root key service unavailable: Key Protect \(call.operation) got no answer "
                        + "(\(KeyProtectErrors.describe(error)); correlation-id \(correlationID))"
                )
            } catch let error as RootKeyError {
                throw error
            } catch {
                if Task.isCancelled { throw CancellationError() }
                throw RootKeyError(
                    .unavailable,
                    reason: "Key Protect \(call.operation) failed: \(KeyProtectErrors.describe(error)) "
                        + "(correlation-id \(correlationID))"
                )
            }
            if failure.code == .unavailable {
                // A 5xx or no answer: one more request Key Protect did not answer.
                self.unanswered(probe: probe, call: call, correlationID: correlationID)
                reported = true
            }
            retry += 1
            // A probe gets one attempt, and a call stops retrying once the breaker is open.
            guard
                !probe, !self.breaker.isOpen,
                let delay = policy.delay(
                    beforeRetry: retry,
                    retryAfter: retryAfter,
                    elapsed: ContinuousClock.now - started,
                    using: &random
                )
            else {
                throw self.gaveUp(failure, retries: retry - 1, call: call, correlationID: correlationID)
            }
            self.configuration.logger.debug(
                "Key Protect call retried",
                metadata: [
                    "operation": "\(call.operation)", "retry": "\(retry)", "delay": "\(delay)",
                    "correlation-id": "\(correlationID)", "reason": "\(failure.reason)",
                ]
            )
            try await Task.sleep(for: delay)
            // The breaker may have opened while this call waited (other calls' requests failed).
            guard !self.breaker.isOpen else {
                throw self.gaveUp(failure, retries: retry - 1, call: call, correlationID: correlationID)
            }
            self.counters.increment(.retries)
        }
    }

    /// Asks the outage breaker whether a call may go.
    /// - Returns: `true` when the call is the breaker's probe (one attempt).
    /// - Throws: ``RootKeyError/unavailable`` at once while Key Protect is thought down.
    private func admit(correlationID: String) throws -> Bool {
        switch self.breaker.admit() {
        case .call: return false
        case .probe: return true
        case .refuse(let failures, let retryIn):
            self.counters.increment(.outageRefusals)
            throw RootKeyError(
                .unavailable,
                reason: "root key service unavailable: Key Protect did not answer the last \(failures) requests; "
                    + "Keystorm tries it again in \(Self.seconds(retryIn)) s (correlation-id \(correlationID))"
            )
        }
    }

    /// Tells the breaker Key Protect answered; logs once when that closes it.
    private func answered() {
        guard self.breaker.answered() else { return }
        self.configuration.logger.notice("Key Protect answers again; calls go through")
    }

    /// Tells the breaker a request got no answer; logs once when that opens it.
    private func unanswered(probe: Bool, call: KeyProtectCall, correlationID: String) {
        guard let cooldown = self.breaker.failed(probe: probe) else { return }
        self.configuration.logger.warning(
            "Key Protect did not answer \(self.breaker.threshold) requests in a row: calls fail at once for \(Self.seconds(cooldown)) s, then one probes",
            metadata: ["operation": "\(call.operation)", "correlation-id": "\(correlationID)"]
        )
    }

    /// The error of a call that gives up after `retries` retries: `failure`, naming the retries;
    /// counted and logged.
    private func gaveUp(
        _ failure: RootKeyError,
        retries: Int,
        call: KeyProtectCall,
        correlationID: String
    ) -> RootKeyError {
        self.counters.increment(.exhausted)
        let error =
            retries == 0
            ? failure
            : RootKeyError(
                failure.code,
                reason: failure.reason + " after \(retries) retr\(retries == 1 ? "y" : "ies")"
            )
        self.log(error, call: call, correlationID: correlationID)
        return error
    }

    private func log(_ error: RootKeyError, call: KeyProtectCall, correlationID: String) {
        var metadata: Logger.Metadata = [
            "operation": "\(call.operation)", "code": "\(error.code)", "correlation-id": "\(correlationID)",
        ]
        if let rootKeyID = call.rootKeyID { metadata["root-key"] = "\(rootKeyID)" }
        self.configuration.logger.warning("Key Protect call failed: \(error.reason)", metadata: metadata)
    }

    /// Connection-level failures worth another attempt: refused, reset, timed out, TLS trouble.
    /// Not: cancellation, a bad URL, a client already shut down.
    static func isRetryable(_ error: any Error) -> Bool {
        if error is CancellationError || error is RootKeyError || error is NIOTooManyBytesError { return false }
        // A certificate that does not verify (wrong CA bundle, wrong host) will not verify next time.
        if case NIOSSLError.handshakeFailed = error { return false }
        if error is NIOSSLExtraError { return false }
        if Task.isCancelled { return false }
        if let error = error as? HTTPClientError {
            let permanent: [HTTPClientError] = [
                .cancelled, .invalidURL, .emptyHost, .emptyScheme, .alreadyShutdown, .missingSocketPath,
                .redirectLimitReached, .redirectCycleDetected, .bodyLengthMismatch,
                .requestStreamCancelled,
            ]
            return !permanent.contains(error) && !error.shortDescription.hasPrefix("Unsupported scheme")
        }
        return true
    }

    /// `duration` in seconds with one decimal, for messages.
    static func seconds(_ duration: Duration) -> String {
        let tenths = (duration.components.seconds * 10 + duration.components.attoseconds / 100_000_000_000_000_000)
        return "\(tenths / 10).\(tenths % 10)"
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// `application/x-www-form-urlencoded` for an API key: unreserved characters as they are,
    /// everything else as `%XX`.
    private static func appendFormEncoded(_ text: String, to form: inout [UInt8]) {
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                form.append(byte)
            default:
                form.append(UInt8(ascii: "%"))
                form.append(hex[Int(byte >> 4)])
                form.append(hex[Int(byte & 0x0F)])
            }
        }
    }
}
