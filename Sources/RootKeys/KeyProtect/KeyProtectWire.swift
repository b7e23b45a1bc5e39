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

/// The JSON bodies Keystorm exchanges with Key Protect (docs/KEY-PROTECT.md §2). Internal: the
/// provider's public API speaks ``RootKeyService`` types only.
enum KeyProtectWire {
    static let keyMediaType = "application/vnd.ibm.kms.key+json"
    static let keyActionMediaType = "application/vnd.ibm.kms.key_action+json"

    /// `{"metadata":{...},"resources":[...]}`.
    struct Collection<Resource: Codable & Sendable>: Codable, Sendable {
        struct Metadata: Codable, Sendable {
            var collectionType: String
            var collectionTotal: Int
        }

        var metadata: Metadata?
        var resources: [Resource]
    }

    /// A root key to create (`POST /api/v2/keys`).
    struct NewKey: Codable, Sendable {
        var type: String
        var name: String
        var description: String?
        var extractable: Bool
    }

    /// `{"id": uuid}`: a key version named in a response.
    struct VersionReference: Codable, Sendable {
        var id: String
    }

    /// A key's metadata (`GET /api/v2/keys/<id>`, the create and delete answers).
    struct Key: Codable, Sendable {
        var id: String
        var name: String?
        var state: Int?
        var deleted: Bool?
        var keyVersion: VersionReference?
    }

    /// One entry of `GET /api/v2/keys/<id>/versions` (newest first).
    struct Version: Codable, Sendable {
        var id: String
        var creationDate: String?
    }

    /// `{"ciphertext": C, "aad": [...]}` for unwrap and rewrap.
    struct CiphertextRequest: Codable, Sendable {
        var ciphertext: String
        var aad: [String]?
    }

    struct WrapResponse: Codable, Sendable {
        var ciphertext: String
        var keyVersion: VersionReference?
    }

    /// The answer to unwrap; `plaintext` is base64 key material and never logged.
    struct UnwrapResponse: Codable, Sendable {
        var plaintext: String
        var keyVersion: VersionReference?
        /// Present when the ciphertext was made under an older version: the same key wrapped
        /// under the current one.
        var ciphertext: String?
        var rewrappedKeyVersion: VersionReference?
    }

    struct RewrapResponse: Codable, Sendable {
        var ciphertext: String
        var keyVersion: VersionReference?
        var rewrappedKeyVersion: VersionReference?
    }

    /// The error envelope: `{"metadata":{...},"resources":[{"errorMsg","reasons":[{code,message,status}]}]}`.
    struct ErrorEnvelope: Codable, Sendable {
        struct Resource: Codable, Sendable {
            var errorMsg: String?
            var reasons: [Reason]?
        }

        struct Reason: Codable, Sendable {
            var code: String?
            var message: String?
            var status: Int?
        }

        var resources: [Resource]?

        /// The first reason's code, e.g. `KEY_DELETED_ERR`.
        var code: String? { self.resources?.first?.reasons?.first?.code }
        /// The first reason's message, else the resource's `errorMsg`.
        var message: String? {
            self.resources?.first?.reasons?.first?.message ?? self.resources?.first?.errorMsg
        }
    }

    /// IAM's answer to `POST /identity/token`. `accessToken` is a credential and never logged.
    struct IAMToken: Codable, Sendable {
        var accessToken: String
        var expiresIn: Int?
        var expiration: Int?

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token"
            case expiresIn = "expires_in"
            case expiration
        }
    }

    /// IAM's error body, e.g. `{"errorCode":"BXNIM0415E","errorMessage":"Provided API key could not be found."}`.
    struct IAMError: Codable, Sendable {
        var errorCode: String?
        var errorMessage: String?
    }

    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// Decodes `T` or throws ``RootKeyError/unavailable`` naming what did not parse.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw RootKeyError(.unavailable, reason: "Key Protect answered \(what) with a body Keystorm cannot read")
        }
    }
}
