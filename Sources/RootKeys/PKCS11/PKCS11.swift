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

internal import CKeystormPKCS11

/// A PKCS#11 function that did not return `CKR_OK`.
///
/// Thrown by ``PKCS11Session`` and ``PKCS11Module``; ``PKCS11RootKeyService`` turns it into a
/// ``RootKeyError`` at its boundary (``rootKeyError``) after reacting to the return values it
/// handles itself (a stale object handle, a tag that does not verify).
struct PKCS11Error: Error, CustomStringConvertible {
    /// The PKCS#11 function, e.g. `C_Login`.
    var function: String
    /// The `CK_RV` it returned.
    var returnValue: CK_RV

    /// The return value's name, e.g. `CKR_PIN_INCORRECT`.
    var returnValueName: String { PKCS11.name(of: self.returnValue) }

    var description: String { "\(self.function) returned \(self.returnValueName)" }

    /// The ``RootKeyError`` this failure means to Keystorm's callers:
    /// ``RootKeyError/unauthorized`` for a PIN the token refuses, ``RootKeyError/unavailable`` for a
    /// token, slot, session or device that is gone or failing (retrying later may help), and
    /// ``RootKeyError/cryptoFailure`` for anything else.
    var rootKeyError: RootKeyError {
        let code: RootKeyError.Code
        switch self.returnValue {
        case CK_RV(CKR_PIN_INCORRECT), CK_RV(CKR_PIN_INVALID), CK_RV(CKR_PIN_LEN_RANGE), CK_RV(CKR_PIN_EXPIRED),
            CK_RV(CKR_PIN_LOCKED), CK_RV(CKR_USER_PIN_NOT_INITIALIZED):
            code = .unauthorized
        case CK_RV(CKR_DEVICE_ERROR), CK_RV(CKR_DEVICE_MEMORY), CK_RV(CKR_DEVICE_REMOVED),
            CK_RV(CKR_TOKEN_NOT_PRESENT), CK_RV(CKR_TOKEN_NOT_RECOGNIZED), CK_RV(CKR_SLOT_ID_INVALID),
            CK_RV(CKR_SESSION_HANDLE_INVALID), CK_RV(CKR_SESSION_CLOSED), CK_RV(CKR_SESSION_COUNT),
            CK_RV(CKR_USER_NOT_LOGGED_IN), CK_RV(CKR_CRYPTOKI_NOT_INITIALIZED),
            CK_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED), CK_RV(CKR_HOST_MEMORY), CK_RV(CKR_GENERAL_ERROR),
            CK_RV(CKR_FUNCTION_FAILED):
            code = .unavailable
        default:
            code = .cryptoFailure
        }
        return RootKeyError(code, reason: "the PKCS#11 module: \(self.description)")
    }
}

/// The one funnel every PKCS#11 call's return value goes through, and the names of return values
/// for errors and logs. PKCS#11 calls never take key material into their error paths, so a
/// ``PKCS11Error`` holds a function name and a number only.
enum PKCS11 {
    /// Throws a ``PKCS11Error`` unless `returnValue` is `CKR_OK`.
    static func check(_ returnValue: CK_RV, _ function: String) throws {
        guard returnValue == CK_RV(CKR_OK) else {
            throw PKCS11Error(function: function, returnValue: returnValue)
        }
    }

    /// Runs `body`, turning a ``PKCS11Error`` into the ``RootKeyError`` it means.
    static func mappingErrors<Result>(_ body: () throws -> Result) throws -> Result {
        do {
            return try body()
        } catch let error as PKCS11Error {
            throw error.rootKeyError
        }
    }

    /// `CKR_…` for the return values Keystorm may meet, hexadecimal for others.
    static func name(of returnValue: CK_RV) -> String {
        Self.names[returnValue] ?? "CKR 0x" + String(returnValue, radix: 16)
    }

    private static let names: [CK_RV: String] = [
        CK_RV(CKR_OK): "CKR_OK",
        CK_RV(CKR_CANCEL): "CKR_CANCEL",
        CK_RV(CKR_HOST_MEMORY): "CKR_HOST_MEMORY",
        CK_RV(CKR_SLOT_ID_INVALID): "CKR_SLOT_ID_INVALID",
        CK_RV(CKR_GENERAL_ERROR): "CKR_GENERAL_ERROR",
        CK_RV(CKR_FUNCTION_FAILED): "CKR_FUNCTION_FAILED",
        CK_RV(CKR_ARGUMENTS_BAD): "CKR_ARGUMENTS_BAD",
        CK_RV(CKR_ATTRIBUTE_READ_ONLY): "CKR_ATTRIBUTE_READ_ONLY",
        CK_RV(CKR_ATTRIBUTE_SENSITIVE): "CKR_ATTRIBUTE_SENSITIVE",
        CK_RV(CKR_ATTRIBUTE_TYPE_INVALID): "CKR_ATTRIBUTE_TYPE_INVALID",
        CK_RV(CKR_ATTRIBUTE_VALUE_INVALID): "CKR_ATTRIBUTE_VALUE_INVALID",
        CK_RV(CKR_DATA_INVALID): "CKR_DATA_INVALID",
        CK_RV(CKR_DATA_LEN_RANGE): "CKR_DATA_LEN_RANGE",
        CK_RV(CKR_DEVICE_ERROR): "CKR_DEVICE_ERROR",
        CK_RV(CKR_DEVICE_MEMORY): "CKR_DEVICE_MEMORY",
        CK_RV(CKR_DEVICE_REMOVED): "CKR_DEVICE_REMOVED",
        CK_RV(CKR_ENCRYPTED_DATA_INVALID): "CKR_ENCRYPTED_DATA_INVALID",
        CK_RV(CKR_ENCRYPTED_DATA_LEN_RANGE): "CKR_ENCRYPTED_DATA_LEN_RANGE",
        CK_RV(CKR_FUNCTION_NOT_SUPPORTED): "CKR_FUNCTION_NOT_SUPPORTED",
        CK_RV(CKR_KEY_HANDLE_INVALID): "CKR_KEY_HANDLE_INVALID",
        CK_RV(CKR_KEY_FUNCTION_NOT_PERMITTED): "CKR_KEY_FUNCTION_NOT_PERMITTED",
        CK_RV(CKR_KEY_TYPE_INCONSISTENT): "CKR_KEY_TYPE_INCONSISTENT",
        CK_RV(CKR_MECHANISM_INVALID): "CKR_MECHANISM_INVALID",
        CK_RV(CKR_MECHANISM_PARAM_INVALID): "CKR_MECHANISM_PARAM_INVALID",
        CK_RV(CKR_OBJECT_HANDLE_INVALID): "CKR_OBJECT_HANDLE_INVALID",
        CK_RV(CKR_OPERATION_ACTIVE): "CKR_OPERATION_ACTIVE",
        CK_RV(CKR_OPERATION_NOT_INITIALIZED): "CKR_OPERATION_NOT_INITIALIZED",
        CK_RV(CKR_PIN_INCORRECT): "CKR_PIN_INCORRECT",
        CK_RV(CKR_PIN_INVALID): "CKR_PIN_INVALID",
        CK_RV(CKR_PIN_LEN_RANGE): "CKR_PIN_LEN_RANGE",
        CK_RV(CKR_PIN_EXPIRED): "CKR_PIN_EXPIRED",
        CK_RV(CKR_PIN_LOCKED): "CKR_PIN_LOCKED",
        CK_RV(CKR_SESSION_CLOSED): "CKR_SESSION_CLOSED",
        CK_RV(CKR_SESSION_COUNT): "CKR_SESSION_COUNT",
        CK_RV(CKR_SESSION_HANDLE_INVALID): "CKR_SESSION_HANDLE_INVALID",
        CK_RV(CKR_SESSION_READ_ONLY): "CKR_SESSION_READ_ONLY",
        CK_RV(CKR_TEMPLATE_INCOMPLETE): "CKR_TEMPLATE_INCOMPLETE",
        CK_RV(CKR_TEMPLATE_INCONSISTENT): "CKR_TEMPLATE_INCONSISTENT",
        CK_RV(CKR_TOKEN_NOT_PRESENT): "CKR_TOKEN_NOT_PRESENT",
        CK_RV(CKR_TOKEN_NOT_RECOGNIZED): "CKR_TOKEN_NOT_RECOGNIZED",
        CK_RV(CKR_TOKEN_WRITE_PROTECTED): "CKR_TOKEN_WRITE_PROTECTED",
        CK_RV(CKR_USER_ALREADY_LOGGED_IN): "CKR_USER_ALREADY_LOGGED_IN",
        CK_RV(CKR_USER_NOT_LOGGED_IN): "CKR_USER_NOT_LOGGED_IN",
        CK_RV(CKR_USER_PIN_NOT_INITIALIZED): "CKR_USER_PIN_NOT_INITIALIZED",
        CK_RV(CKR_USER_TYPE_INVALID): "CKR_USER_TYPE_INVALID",
        CK_RV(CKR_BUFFER_TOO_SMALL): "CKR_BUFFER_TOO_SMALL",
        CK_RV(CKR_RANDOM_NO_RNG): "CKR_RANDOM_NO_RNG",
        CK_RV(CKR_CRYPTOKI_NOT_INITIALIZED): "CKR_CRYPTOKI_NOT_INITIALIZED",
        CK_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED): "CKR_CRYPTOKI_ALREADY_INITIALIZED",
    ]
}
