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
import KeyStore
import KeystormPKI
import RootKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension ControlError {
    /// The control-plane error for any error an operation met, classified by its type and code
    /// (never by its message text), as one line that names `operation`.
    ///
    /// - Parameters:
    ///   - error: What the store, the root-key service, the PKI or the file system threw.
    ///   - operation: What was being done, e.g. "reading /etc/vcenter.pem"; it leads the reason.
    ///   - dataDirectory: The data directory, to tell a full disk from another storage failure.
    /// - Returns: `error` itself when it is a ``ControlError``.
    public static func classifying(
        _ error: any Error,
        operation: String? = nil,
        dataDirectory: String? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> ControlError {
        let (code, cause) = Self.classify(error, dataDirectory: dataDirectory)
        if let control = error as? ControlError, operation == nil { return control }
        let reason = operation.map { "\($0): \(cause)" } ?? cause
        return ControlError(code, reason, file: file, line: line)
    }

    private static func classify(_ error: any Error, dataDirectory: String?) -> (Code, String) {
        switch error {
        case let error as ControlError:
            return (error.code, error.reason)
        case let error as KeyStoreError:
            return Self.classify(error, dataDirectory: dataDirectory)
        case let error as RootKeyError:
            return Self.classify(error)
        case let error as PKIError:
            return Self.classify(error)
        case let error as CocoaError:
            return Self.classify(error)
        case let error as POSIXError:
            return Self.classify(errno: error.code.rawValue, path: nil)
        case is CancellationError:
            return (.internalError, "cancelled")
        default:
            return (.internalError, "unexpected \(type(of: error))")
        }
    }

    private static func classify(_ error: KeyStoreError, dataDirectory: String?) -> (Code, String) {
        switch error.code {
        case .invalidName: return (.invalidName, error.reason)
        case .alreadyExists: return (.alreadyExists, error.reason)
        case .notFound: return (.notFound, error.reason)
        case .conflict: return (.conflict, "\(error.reason); try again")
        default:
            if let dataDirectory, DiskSpace.isFull(at: dataDirectory) {
                return (.diskFull, "the disk holding \(dataDirectory) is full (key store: \(error.reason))")
            }
            return (.storeUnavailable, "the key store failed: \(error.reason)")
        }
    }

    private static func classify(_ error: RootKeyError) -> (Code, String) {
        switch error.code {
        case .deleted, .notFound:
            return (.rootKeyDeleted, "the root key is deleted: its keys are crypto-shredded (\(error.reason))")
        case .disabled:
            return (.rootKeyDisabled, "the root key is disabled in its root-key service (\(error.reason))")
        case .unavailable, .authenticationFailed, .unauthorized, .rateLimited:
            return (.rootKeyServiceUnavailable, "the root-key service failed: \(error.reason)")
        case .insecurePermissions:
            return (.permissionDenied, error.reason)
        case .invalidArgument:
            return (.badRequest, error.reason)
        default:
            return (.internalError, "the root-key service failed (\(error.code)): \(error.reason)")
        }
    }

    private static func classify(_ error: PKIError) -> (Code, String) {
        switch error.code {
        case .fileSystem: return (.permissionDenied, error.reason)
        case .signingFailed: return (.internalError, error.reason)
        default: return (.badRequest, error.reason)
        }
    }

    private static func classify(_ error: CocoaError) -> (Code, String) {
        let path = error.userInfo[NSFilePathErrorKey] as? String ?? (error.userInfo[NSURLErrorKey] as? URL)?.path
        let underlying = (error.userInfo[NSUnderlyingErrorKey] as? NSError).flatMap { nsError in
            nsError.domain == NSPOSIXErrorDomain ? Int32(nsError.code) : nil
        }
        switch error.code {
        case .fileReadNoPermission, .fileWriteNoPermission:
            return (.permissionDenied, Self.describe("permission denied", path))
        case .fileReadNoSuchFile, .fileNoSuchFile:
            return (.notFound, Self.describe("no such file", path))
        case .fileWriteOutOfSpace:
            return (.diskFull, Self.describe("the disk is full", path))
        case .fileWriteFileExists:
            return (.alreadyExists, Self.describe("the file exists already", path))
        case .fileReadInapplicableStringEncoding, .fileReadCorruptFile:
            return (.badRequest, Self.describe("not a text file", path))
        default:
            if let underlying { return Self.classify(errno: underlying, path: path) }
            return (.internalError, Self.describe("file operation failed (code \(error.code.rawValue))", path))
        }
    }

    /// The code and cause for a POSIX error number.
    static func classify(errno code: Int32, path: String?) -> (Code, String) {
        let cause = String(cString: strerror(code)).lowercased()
        switch code {
        case EACCES, EPERM, EROFS: return (.permissionDenied, Self.describe(cause, path))
        case ENOENT, ENOTDIR: return (.notFound, Self.describe(cause, path))
        case ENOSPC, EDQUOT: return (.diskFull, Self.describe("the disk is full", path))
        case EEXIST: return (.alreadyExists, Self.describe(cause, path))
        default: return (.internalError, Self.describe(cause, path))
        }
    }

    private static func describe(_ cause: String, _ path: String?) -> String {
        path.map { "\($0): \(cause)" } ?? cause
    }
}
