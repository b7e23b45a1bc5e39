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

import Crypto
import Foundation

/// One version of a root key: its id (the ciphertext envelope's `handle`) and its 256-bit key.
struct KeyVersion: Codable, Sendable {
    var id: String
    var creationDate: Date
    /// The AES-256 key. Persisted in the state file (the emulated HSM), never logged.
    var material: Data
}

/// A root key and its versions, oldest first.
struct RootKey: Codable, Sendable {
    enum State: Int, Codable, Sendable {
        case active = 1
        case suspended = 2
        case deactivated = 3
        case destroyed = 5
    }

    var id: String
    var name: String
    var state: State
    var creationDate: Date
    var lastUpdateDate: Date
    var deletionDate: Date?
    var versions: [KeyVersion]

    var currentVersion: KeyVersion { self.versions[self.versions.count - 1] }

    /// The checks of a key action (wrap, unwrap, rewrap, rotate) against the key's state.
    func checkUsable(forWrap: Bool) throws(KPError) {
        switch self.state {
        case .destroyed: throw .deleted
        case .suspended: throw .invalidState
        case .deactivated: if forWrap { throw .invalidState }
        case .active: break
        }
    }
}

/// The emulated instance's keys: pure state, no I/O. Lives inside the emulator's mutex.
struct Vault: Sendable {
    var keys: [String: RootKey] = [:]
    /// Creation order, for listing.
    var order: [String] = []

    init(keys: [RootKey]) {
        for key in keys {
            self.keys[key.id] = key
            self.order.append(key.id)
        }
    }

    var allKeys: [RootKey] { self.order.compactMap { self.keys[$0] } }

    mutating func create(name: String, now: Date) -> RootKey {
        let version = KeyVersion(id: UUID().uuidString.lowercased(), creationDate: now, material: Self.newKeyMaterial())
        let key = RootKey(
            id: UUID().uuidString.lowercased(),
            name: name,
            state: .active,
            creationDate: now,
            lastUpdateDate: now,
            versions: [version]
        )
        self.keys[key.id] = key
        self.order.append(key.id)
        return key
    }

    func key(_ id: String) throws(KPError) -> RootKey {
        guard let key = self.keys[id] else { throw .keyNotFound(id) }
        return key
    }

    mutating func rotate(_ id: String, now: Date, minimumInterval: Double?) throws(KPError) {
        var key = try self.key(id)
        try key.checkUsable(forWrap: true)
        if let minimumInterval, now.timeIntervalSince(key.currentVersion.creationDate) < minimumInterval {
            throw .rotationNotPermitted
        }
        key.versions.append(
            KeyVersion(id: UUID().uuidString.lowercased(), creationDate: now, material: Self.newKeyMaterial())
        )
        key.lastUpdateDate = now
        self.keys[id] = key
    }

    mutating func setEnabled(_ id: String, _ enabled: Bool, now: Date) throws(KPError) {
        var key = try self.key(id)
        switch (key.state, enabled) {
        case (.destroyed, _): throw .deleted
        case (.active, false): key.state = .suspended
        case (.suspended, true): key.state = .active
        default: throw .invalidState
        }
        key.lastUpdateDate = now
        self.keys[id] = key
    }

    mutating func delete(_ id: String, now: Date) throws(KPError) -> RootKey {
        var key = try self.key(id)
        if key.state == .destroyed { throw .deleted }
        key.state = .destroyed
        key.deletionDate = now
        key.lastUpdateDate = now
        // A destroyed key's material is gone: keep the versions' ids, drop their keys.
        for index in key.versions.indices { key.versions[index].material = Data() }
        self.keys[id] = key
        return key
    }

    static func newKeyMaterial() -> Data {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
    }
}

/// Key Protect's ciphertext: base64 of the JSON envelope
/// `{"ciphertext": b64, "iv": b64, "version": "4.0.0", "handle": "<key-version id>"}`,
/// AES-256-GCM with a 12-byte IV and the tag appended to the ciphertext.
struct CiphertextEnvelope: Codable, Sendable {
    var ciphertext: String
    var iv: String
    var version: String
    var handle: String

    static let formatVersion = "4.0.0"

    /// AAD strings joined with "\n" (absent: empty).
    static func additionalData(_ aad: [String]?) -> Data { Data((aad ?? []).joined(separator: "\n").utf8) }

    /// Seals `plaintext` under `version` and returns the base64 ciphertext string.
    static func seal(_ plaintext: Data, under version: KeyVersion, aad: [String]?) throws(KPError) -> String {
        do {
            let box = try AES.GCM.seal(
                plaintext,
                using: SymmetricKey(data: version.material),
                nonce: AES.GCM.Nonce(),
                authenticating: Self.additionalData(aad)
            )
            let envelope = CiphertextEnvelope(
                ciphertext: (box.ciphertext + box.tag).base64EncodedString(),
                iv: Data(box.nonce).base64EncodedString(),
                version: Self.formatVersion,
                handle: version.id
            )
            return try JSONEncoder.emulator.encode(envelope).base64EncodedString()
        } catch {
            throw KPError(status: 500, code: "INTERNAL_SERVER_ERR", message: "encryption failed")
        }
    }

    /// Parses a ciphertext string; garbage is an unprocessable ciphertext.
    static func parse(_ ciphertext: String) throws(KPError) -> CiphertextEnvelope {
        guard let json = Data(base64Encoded: ciphertext),
            let envelope = try? JSONDecoder().decode(CiphertextEnvelope.self, from: json)
        else { throw .unprocessableCiphertext }
        return envelope
    }

    /// Opens this envelope with `version` (whose id is `handle`).
    func open(with version: KeyVersion, aad: [String]?) throws(KPError) -> Data {
        guard let sealed = Data(base64Encoded: self.ciphertext), sealed.count >= 16,
            let iv = Data(base64Encoded: self.iv), iv.count == 12, version.material.count == 32
        else { throw .unprocessableCiphertext }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: iv),
                ciphertext: sealed.prefix(sealed.count - 16),
                tag: sealed.suffix(16)
            )
            return try AES.GCM.open(
                box,
                using: SymmetricKey(data: version.material),
                authenticating: Self.additionalData(aad)
            )
        } catch {
            throw .unprocessableCiphertext
        }
    }
}
