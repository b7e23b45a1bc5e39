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

/// Key Protect's error answers as ``RootKeyError``s.
///
/// | HTTP | Key Protect code | RootKeyError |
/// |---|---|---|
/// | 400 | (anything) | ``RootKeyError/invalidArgument`` |
/// | 401, 403 | | ``RootKeyError/unauthorized`` |
/// | 404 | `KEY_NOT_FOUND_ERR` | ``RootKeyError/notFound`` |
/// | 409 | `KEY_ACTION_INVALID_STATE_ERR` and other state errors | ``RootKeyError/disabled`` |
/// | 409 | `KEY_ROTATION_NOT_PERMITTED`, `REQ_TOO_EARLY_ERR` | ``RootKeyError/unavailable`` (try later) |
/// | 410 | `KEY_DELETED_ERR` | ``RootKeyError/deleted`` |
/// | 422 | `UNPROCESSABLE_CIPHERTEXT_ERR` | ``RootKeyError/authenticationFailed`` |
/// | 422 | `KEY_INVALID_STATE_ERR` | ``RootKeyError/disabled`` |
/// | 422 | other | ``RootKeyError/invalidCiphertext`` |
/// | 429 | `TOO_MANY_REQUESTS` | ``RootKeyError/rateLimited`` |
/// | 5xx, other | | ``RootKeyError/unavailable`` |
///
/// Reasons name the operation, the root key's id, the HTTP status, Key Protect's code and message
/// and the correlation-id; never a token, an API key or key material.
enum KeyProtectErrors {
    static func error(
        status: Int,
        body: [UInt8],
        operation: String,
        rootKeyID: String?,
        correlationID: String
    ) -> RootKeyError {
        let envelope = try? JSONDecoder().decode(KeyProtectWire.ErrorEnvelope.self, from: Data(body))
        let code = envelope?.code
        var reason = "Key Protect \(operation)"
        if let rootKeyID { reason += " of root key \(rootKeyID)" }
        reason += " failed: HTTP \(status)"
        if let code { reason += " \(Self.clip(code))" }
        if let message = envelope?.message { reason += ": \(Self.clip(message))" }
        reason += " (correlation-id \(correlationID))"
        return RootKeyError(Self.code(status: status, keyProtectCode: code), reason: reason)
    }

    static func code(status: Int, keyProtectCode code: String?) -> RootKeyError.Code {
        switch status {
        case 400: return .invalidArgument
        case 401, 403: return .unauthorized
        case 404: return .notFound
        case 409:
            switch code {
            case "KEY_ROTATION_NOT_PERMITTED", "REQ_TOO_EARLY_ERR": return .unavailable
            case .some(let code) where code.contains("STATE"): return .disabled
            case nil: return .disabled
            default: return .invalidArgument
            }
        case 410: return .deleted
        case 422:
            switch code {
            case "UNPROCESSABLE_CIPHERTEXT_ERR": return .authenticationFailed
            case "KEY_INVALID_STATE_ERR": return .disabled
            default: return .invalidCiphertext
            }
        case 429: return .rateLimited
        default: return .unavailable
        }
    }

    /// At most 200 characters of text from the service.
    static func clip(_ text: String) -> String {
        text.count <= 200 ? text : String(text.prefix(200)) + "…"
    }

    /// A transport error for a reason, without any request content.
    static func describe(_ error: any Error) -> String {
        Self.clip(String(describing: error))
    }
}
