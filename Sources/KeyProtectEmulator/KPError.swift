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

/// A Key Protect error: an HTTP status and a reason code, rendered into Key Protect's error
/// envelope (`application/vnd.ibm.kms.error+json`). Never carries key material.
struct KPError: Error, Equatable, CustomStringConvertible {
    var status: Int
    var code: String
    var message: String

    var description: String { "\(self.status) \(self.code): \(self.message)" }

    static func badRequest(_ message: String) -> KPError {
        KPError(status: 400, code: "BAD_BODY_ERR", message: message)
    }
    static func unauthorized(_ message: String) -> KPError {
        KPError(status: 401, code: "UNAUTHORIZED_ERR", message: message)
    }
    static func keyNotFound(_ id: String) -> KPError {
        KPError(status: 404, code: "KEY_NOT_FOUND_ERR", message: "Key with id \(id) does not exist")
    }
    static let invalidState = KPError(
        status: 409,
        code: "KEY_ACTION_INVALID_STATE_ERR",
        message: "Key is not in a valid state for this action"
    )
    static let rotationNotPermitted = KPError(
        status: 409,
        code: "KEY_ROTATION_NOT_PERMITTED",
        message: "This root key was rotated recently; wait before rotating it again"
    )
    static let deleted = KPError(status: 410, code: "KEY_DELETED_ERR", message: "Key has already been deleted")
    static let unprocessableCiphertext = KPError(
        status: 422,
        code: "UNPROCESSABLE_CIPHERTEXT_ERR",
        message: "The provided ciphertext is invalid or corrupted"
    )
    static let tooManyRequests = KPError(
        status: 429,
        code: "TOO_MANY_REQUESTS",
        message: "Too many requests; retry after the Retry-After interval"
    )
    static let serviceUnavailable = KPError(
        status: 503,
        code: "SERVICE_UNAVAILABLE",
        message: "The service is temporarily unavailable"
    )

    /// The KP error envelope.
    var envelope: Data {
        let body = Envelope(
            metadata: .init(collectionType: "application/vnd.ibm.kms.error+json", collectionTotal: 1),
            resources: [
                .init(
                    errorMsg: Self.errorMessage(self.status),
                    reasons: [
                        .init(
                            code: self.code,
                            message: self.message,
                            status: self.status,
                            moreInfo: "https://cloud.ibm.com/apidocs/key-protect"
                        )
                    ]
                )
            ]
        )
        return (try? JSONEncoder.emulator.encode(body)) ?? Data()
    }

    private static func errorMessage(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 409: "Conflict"
        case 410: "Gone"
        case 422: "Unprocessable Entity"
        case 429: "Too Many Requests"
        case 503: "Service Unavailable"
        default: "Error"
        }
    }

    private struct Envelope: Encodable {
        var metadata: Metadata
        var resources: [Resource]
    }
    struct Metadata: Codable {
        var collectionType: String
        var collectionTotal: Int
    }
    private struct Resource: Encodable {
        var errorMsg: String
        var reasons: [Reason]
    }
    private struct Reason: Encodable {
        var code: String
        var message: String
        var status: Int
        var moreInfo: String
    }
}

extension JSONEncoder {
    /// Sorted keys, unescaped slashes (base64 stays as it is).
    static var emulator: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
