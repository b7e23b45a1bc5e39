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
import NIOCore
import NIOHTTP1
import Synchronization

/// Root keys in IBM Key Protect, reached over its REST API (docs/KEY-PROTECT.md §2).
///
/// The root keys never leave Key Protect: wrap, unwrap and rewrap are `POST .../actions/<name>`
/// calls, authenticated with an IAM bearer token that the provider gets for its API key, caches,
/// and refreshes at 80% of its lifetime (one fetch at a time; a 401 forces one refresh and one
/// more try). Every call carries `bluemix-instance`, the optional `x-kms-key-ring` and a fresh
/// `correlation-id`, which errors and logs name.
///
/// - One `HTTPClient` with a keep-alive pool (``Configuration/maxConnectionsPerHost``, default 64)
///   serves every call; ``shutdown()`` closes it.
/// - 429, 5xx (except 501) and connection failures are retried with jittered exponential back-off
///   that honours `Retry-After`, at most 4 times and within a 30 s budget
///   (``KeyProtectRetryPolicy``); ``statistics`` counts requests, retries and 429s.
/// - Keystorm's AAD bytes go to Key Protect as base64 in ≤255-character strings
///   (``KeyProtectCiphertext/aad(_:)``); Key Protect does not store it, so an unwrap with other AAD
///   fails with ``RootKeyError/authenticationFailed``.
/// - ``WrappedKey/rootKeyVersion`` numbers Key Protect's version uuids 1, 2, ... oldest first, as
///   `GET /api/v2/keys/<id>/versions` lists them; the table is cached per key and reloaded after a
///   rotation or when a ciphertext names a version it does not know.
/// - Key states: 1 (active) and 3 (deactivated: unwraps still work, wraps do not) are
///   ``RootKeyState/active``; 2 (suspended) and other non-final states are
///   ``RootKeyState/disabled``; 5 (destroyed) and 410 answers are ``RootKeyState/deleted``.
public final class KeyProtectRootKeyService: RootKeyService {
    public let configuration: Configuration
    public var providerName: String { "keyprotect" }

    /// The counters since start: requests, retries, 429s, 5xx, token refreshes.
    public var statistics: Statistics { self.counters.snapshot }

    private let transport: KeyProtectTransport
    private let counters: KeyProtectCounters
    private let versionTables = Mutex<[String: KeyProtectVersionTable]>([:])

    /// Creates the provider and its HTTP client; no request is sent until the first call.
    /// Call ``shutdown()`` when done.
    ///
    /// - Throws: ``RootKeyError/invalidArgument`` when the endpoint, instance id or API key is empty.
    public init(configuration: Configuration) throws {
        for (name, value) in [
            ("endpoint", configuration.endpoint), ("IAM endpoint", configuration.iamEndpoint),
            ("instance id", configuration.instanceID), ("API key", configuration.apiKey),
        ] where value.isEmpty {
            throw RootKeyError(.invalidArgument, reason: "the Key Protect \(name) is empty")
        }
        for (name, url) in [("endpoint", configuration.endpoint), ("IAM endpoint", configuration.iamEndpoint)]
        where !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
            throw RootKeyError(.invalidArgument, reason: "the Key Protect \(name) '\(url)' is not an http(s) URL")
        }
        self.configuration = configuration
        self.counters = KeyProtectCounters()
        self.transport = KeyProtectTransport(configuration: configuration, counters: self.counters)
    }

    /// Closes the HTTP client's connections. Calls after this fail.
    public func shutdown() async throws {
        try await self.transport.shutdown()
    }

    // MARK: RootKeyService

    /// Creates a non-extractable root key named `label` (at most 90 characters are kept).
    public func createRootKey(label: String) async throws -> RootKeyHandle {
        let name = String(label.prefix(90))
        let body = KeyProtectWire.Collection(
            metadata: .init(collectionType: KeyProtectWire.keyMediaType, collectionTotal: 1),
            resources: [
                KeyProtectWire.NewKey(
                    type: KeyProtectWire.keyMediaType,
                    name: name,
                    description: nil,
                    extractable: false
                )
            ]
        )
        let response = try await self.transport.send(
            KeyProtectCall(
                operation: "create key",
                rootKeyID: nil,
                method: .POST,
                path: "/api/v2/keys",
                contentType: KeyProtectWire.keyMediaType,
                body: ByteBuffer(bytes: try KeyProtectWire.encode(body))
            )
        )
        let created = try KeyProtectWire.decode(
            KeyProtectWire.Collection<KeyProtectWire.Key>.self,
            from: response.body,
            what: "create key"
        )
        guard let key = created.resources.first else {
            throw RootKeyError(.unavailable, reason: "Key Protect answered create key without a key")
        }
        if let version = key.keyVersion?.id {
            self.versionTables.withLock { $0[key.id] = KeyProtectVersionTable(newestFirst: [version]) }
        }
        return RootKeyHandle(keyID: key.id, version: 1)
    }

    /// Wraps `plaintext` (1 to 4096 bytes) under the key's current version.
    public func wrap(_ plaintext: SecretBytes, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey {
        guard plaintext.count > 0, plaintext.count <= 4096 else {
            throw RootKeyError(.invalidArgument, reason: "Key Protect wraps 1 to 4096 bytes, not \(plaintext.count)")
        }
        let path = try Self.actionPath(rootKeyID, "wrap")
        var json = Self.wrapBody(plaintext, aad: try KeyProtectCiphertext.aad(aad))
        let body = ByteBuffer(bytes: json)
        SecretBytes.wipe(&json)
        let response = try await self.transport.send(
            KeyProtectCall(
                operation: "wrap",
                rootKeyID: rootKeyID,
                method: .POST,
                path: path,
                contentType: KeyProtectWire.keyActionMediaType,
                body: body
            )
        )
        let wrapped = try KeyProtectWire.decode(KeyProtectWire.WrapResponse.self, from: response.body, what: "wrap")
        let version = try await self.versionNumber(
            rootKeyID: rootKeyID,
            id: wrapped.keyVersion?.id ?? KeyProtectCiphertext.handle(of: wrapped.ciphertext)
        )
        return WrappedKey(ciphertext: Array(wrapped.ciphertext.utf8), rootKeyVersion: version)
    }

    /// Unwraps a ciphertext made by any version of the key. After a rotation Key Protect also
    /// returns the key wrapped under the current version: that is ``UnwrapResult/rewrapped``.
    ///
    /// - Throws: ``RootKeyError/authenticationFailed`` for other AAD or a garbled ciphertext,
    ///   ``RootKeyError/deleted`` after a delete (crypto-shredded), ``RootKeyError/disabled``,
    ///   ``RootKeyError/notFound``, and the transport's errors.
    public func unwrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> UnwrapResult {
        let request = KeyProtectWire.CiphertextRequest(
            ciphertext: try KeyProtectCiphertext.text(of: wrapped),
            aad: try KeyProtectCiphertext.aad(aad)
        )
        var response = try await self.transport.send(
            KeyProtectCall(
                operation: "unwrap",
                rootKeyID: rootKeyID,
                method: .POST,
                path: try Self.actionPath(rootKeyID, "unwrap"),
                contentType: KeyProtectWire.keyActionMediaType,
                body: ByteBuffer(bytes: try KeyProtectWire.encode(request))
            )
        )
        defer { SecretBytes.wipe(&response.body) }
        let unwrapped = try KeyProtectWire.decode(
            KeyProtectWire.UnwrapResponse.self,
            from: response.body,
            what: "unwrap"
        )
        guard var bytes = ByteEncoding.decodeBase64(Array(unwrapped.plaintext.utf8)) else {
            throw RootKeyError(
                .unavailable,
                reason: "Key Protect answered unwrap of root key \(rootKeyID) with malformed plaintext"
            )
        }
        let plaintext = SecretBytes(bytes)
        SecretBytes.wipe(&bytes)
        guard let ciphertext = unwrapped.ciphertext, ciphertext != request.ciphertext else {
            return UnwrapResult(plaintext: plaintext)
        }
        let version = try await self.versionNumber(
            rootKeyID: rootKeyID,
            id: unwrapped.rewrappedKeyVersion?.id ?? KeyProtectCiphertext.handle(of: ciphertext)
        )
        return UnwrapResult(
            plaintext: plaintext,
            rewrapped: WrappedKey(ciphertext: Array(ciphertext.utf8), rootKeyVersion: version)
        )
    }

    /// Has Key Protect unwrap and wrap again under the current version; the plaintext never
    /// reaches Keystorm.
    public func rewrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey {
        let request = KeyProtectWire.CiphertextRequest(
            ciphertext: try KeyProtectCiphertext.text(of: wrapped),
            aad: try KeyProtectCiphertext.aad(aad)
        )
        let response = try await self.transport.send(
            KeyProtectCall(
                operation: "rewrap",
                rootKeyID: rootKeyID,
                method: .POST,
                path: try Self.actionPath(rootKeyID, "rewrap"),
                contentType: KeyProtectWire.keyActionMediaType,
                body: ByteBuffer(bytes: try KeyProtectWire.encode(request))
            )
        )
        let rewrapped = try KeyProtectWire.decode(
            KeyProtectWire.RewrapResponse.self,
            from: response.body,
            what: "rewrap"
        )
        let version = try await self.versionNumber(
            rootKeyID: rootKeyID,
            id: rewrapped.rewrappedKeyVersion?.id ?? KeyProtectCiphertext.handle(of: rewrapped.ciphertext)
        )
        return WrappedKey(ciphertext: Array(rewrapped.ciphertext.utf8), rootKeyVersion: version)
    }

    /// Makes a new version current. Key Protect allows one rotation an hour; a second one answers
    /// ``RootKeyError/unavailable`` ("KEY_ROTATION_NOT_PERMITTED").
    public func rotate(rootKeyID: String) async throws -> RootKeyHandle {
        _ = try await self.transport.send(
            KeyProtectCall(
                operation: "rotate",
                rootKeyID: rootKeyID,
                method: .POST,
                path: try Self.actionPath(rootKeyID, "rotate"),
                contentType: KeyProtectWire.keyActionMediaType,
                body: nil
            )
        )
        let table = try await self.reloadVersions(rootKeyID: rootKeyID)
        return RootKeyHandle(keyID: rootKeyID, version: table.current)
    }

    /// Deletes the key in Key Protect (state 5): everything wrapped under it is shredded. Deleting
    /// a deleted key does nothing.
    public func delete(rootKeyID: String) async throws {
        var call = KeyProtectCall(
            operation: "delete",
            rootKeyID: rootKeyID,
            method: .DELETE,
            path: try Self.keyPath(rootKeyID),
            contentType: nil,
            body: nil
        )
        call.accepting = [410]
        _ = try await self.transport.send(call)
    }

    public func info(rootKeyID: String) async throws -> RootKeyInfo {
        var call = KeyProtectCall(
            operation: "get key",
            rootKeyID: rootKeyID,
            method: .GET,
            path: try Self.keyPath(rootKeyID),
            contentType: nil,
            body: nil
        )
        call.accepting = [410]
        let response = try await self.transport.send(call)
        let known = self.versionTables.withLock { $0[rootKeyID] }
        let key =
            (try? JSONDecoder().decode(KeyProtectWire.Collection<KeyProtectWire.Key>.self, from: Data(response.body)))?
            .resources.first
        let state = Self.state(keyProtectState: key?.state, deleted: key?.deleted, status: response.status)
        guard state != .deleted else {
            return RootKeyInfo(
                keyID: rootKeyID,
                label: key?.name ?? "",
                state: .deleted,
                currentVersion: known?.current ?? 0
            )
        }
        guard let key else {
            throw RootKeyError(
                .unavailable,
                reason: "Key Protect answered get key of root key \(rootKeyID) with a body Keystorm cannot read"
            )
        }
        var current = known?.current ?? 0
        if let versionID = key.keyVersion?.id {
            current = try await self.versionNumber(rootKeyID: rootKeyID, id: versionID)
        } else if known == nil {
            current = try await self.reloadVersions(rootKeyID: rootKeyID).current
        }
        return RootKeyInfo(keyID: rootKeyID, label: key.name ?? "", state: state, currentVersion: current)
    }

    // MARK: Beyond the protocol

    /// Suspends the key (Key Protect state 2): wraps and unwraps fail with ``RootKeyError/disabled``.
    public func disable(rootKeyID: String) async throws {
        try await self.action("disable", rootKeyID: rootKeyID)
    }

    /// Makes a suspended key active again.
    public func enable(rootKeyID: String) async throws {
        try await self.action("enable", rootKeyID: rootKeyID)
    }

    // MARK: Internals

    /// Key Protect's numeric state (and the `deleted` flag, and the HTTP status) as a ``RootKeyState``.
    static func state(keyProtectState: Int?, deleted: Bool?, status: Int) -> RootKeyState {
        if status == 410 || deleted == true || keyProtectState == 5 { return .deleted }
        switch keyProtectState {
        case 1, 3: return .active
        default: return .disabled
        }
    }

    private func action(_ name: String, rootKeyID: String) async throws {
        _ = try await self.transport.send(
            KeyProtectCall(
                operation: name,
                rootKeyID: rootKeyID,
                method: .POST,
                path: try Self.actionPath(rootKeyID, name),
                contentType: KeyProtectWire.keyActionMediaType,
                body: nil
            )
        )
    }

    /// The number of version `id` of the key, reloading the table once if it does not know it.
    private func versionNumber(rootKeyID: String, id: String?) async throws -> Int {
        guard let id else {
            throw RootKeyError(.unavailable, reason: "Key Protect named no key version for root key \(rootKeyID)")
        }
        if let number = self.versionTables.withLock({ $0[rootKeyID]?.number(of: id) }) { return number }
        let table = try await self.reloadVersions(rootKeyID: rootKeyID)
        guard let number = table.number(of: id) else {
            throw RootKeyError(
                .invalidCiphertext,
                reason: "root key \(rootKeyID) has no version \(id) in Key Protect's version list"
            )
        }
        return number
    }

    private func reloadVersions(rootKeyID: String) async throws -> KeyProtectVersionTable {
        let response = try await self.transport.send(
            KeyProtectCall(
                operation: "list versions",
                rootKeyID: rootKeyID,
                method: .GET,
                path: try Self.keyPath(rootKeyID) + "/versions?limit=5000",
                contentType: nil,
                body: nil
            )
        )
        let versions = try KeyProtectWire.decode(
            KeyProtectWire.Collection<KeyProtectWire.Version>.self,
            from: response.body,
            what: "list versions"
        )
        let table = KeyProtectVersionTable(newestFirst: versions.resources.map(\.id))
        self.versionTables.withLock { $0[rootKeyID] = table }
        return table
    }

    /// `/api/v2/keys/<id>`; ids are uuids or aliases, so anything that would leave the path
    /// segment is refused.
    static func keyPath(_ rootKeyID: String) throws -> String {
        let allowed = rootKeyID.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                true
            default:
                false
            }
        }
        guard allowed, !rootKeyID.isEmpty, rootKeyID != ".", rootKeyID != ".." else {
            throw RootKeyError(.notFound, reason: "'\(rootKeyID.prefix(100))' is not a Key Protect key id")
        }
        return "/api/v2/keys/" + rootKeyID
    }

    static func actionPath(_ rootKeyID: String, _ action: String) throws -> String {
        try Self.keyPath(rootKeyID) + "/actions/" + action
    }

    /// `{"plaintext":"<base64>","aad":[...]}` built in one array sized up front (no reallocation
    /// leaves copies) for the caller to wipe, so the key's base64 never sits in a Swift string.
    static func wrapBody(_ plaintext: SecretBytes, aad: [String]?) -> [UInt8] {
        var json: [UInt8] = []
        json.reserveCapacity(32 + (plaintext.count + 2) / 3 * 4 + (aad.map { $0.count * 260 } ?? 0))
        json.append(contentsOf: #"{"plaintext":""#.utf8)
        plaintext.withUnsafeBytes { Self.appendBase64($0, to: &json) }
        json.append(UInt8(ascii: "\""))
        if let aad {
            json.append(contentsOf: #","aad":["#.utf8)
            for (index, element) in aad.enumerated() {
                if index > 0 { json.append(UInt8(ascii: ",")) }
                json.append(UInt8(ascii: "\""))
                json.append(contentsOf: element.utf8)  // base64: nothing to escape
                json.append(UInt8(ascii: "\""))
            }
            json.append(UInt8(ascii: "]"))
        }
        json.append(UInt8(ascii: "}"))
        return json
    }

    /// Standard base64 with padding.
    static func appendBase64(_ bytes: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(alphabet[Int(value >> 6 & 63)])
            output.append(alphabet[Int(value & 63)])
            index += 3
        }
        switch bytes.count - index {
        case 1:
            let value = UInt32(bytes[index]) << 16
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(contentsOf: "==".utf8)
        case 2:
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(alphabet[Int(value >> 6 & 63)])
            output.append(UInt8(ascii: "="))
        default:
            break
        }
    }
}
