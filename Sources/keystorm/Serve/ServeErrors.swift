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
import IOReactor
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// A listener of `keystorm serve` could not be bound:
/// `admin API: cannot listen on 127.0.0.1:9696: address already in use`.
struct ListenerError: Error, CustomStringConvertible {
    /// `KMIP` or `admin API`.
    var listener: String
    var address: String
    var cause: String

    var description: String { "\(self.listener): cannot listen on \(self.address): \(self.cause)" }

    /// The error of binding `address`, with the cause in words when it is a system call's.
    init(listener: String, address: String, error: any Error) {
        self.listener = listener
        self.address = address
        switch error {
        case let error as IOError:
            self.cause = ServeErrorText.errnoText(error.errnoCode)
        case let error as IOReactorError where error.errno != 0:
            self.cause = ServeErrorText.errnoText(error.errno)
        default:
            self.cause = ServeErrorText.describe(error)
        }
    }
}

/// Errors of `keystorm serve` as one line each: the file, value or part concerned and the cause,
/// never a Foundation dump or an OpenSSL error stack.
enum ServeErrorText {
    /// `strerror` in lower case: `address already in use`, `permission denied`.
    static func errnoText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text).lowercased()
    }

    /// One line for `error`.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as ServeServiceFailure:
            return error.description
        case let error as CocoaError:
            let path = error.filePath
            let subject = path.map { "\($0): " } ?? ""
            return subject + Self.cocoaCause(error)
        case let error as IOReactorError where error.code == .tlsConfiguration:
            return "TLS: " + Self.firstOpenSSLReason(error.reason)
        case let error as IOReactorError where error.errno != 0:
            return
                "\(error.reason.split(separator: ":").first.map(String.init) ?? "I/O"): \(Self.errnoText(error.errno))"
        case let error as IOReactorError:
            return error.reason
        case let error as IOError:
            return Self.errnoText(error.errnoCode)
        default:
            let text = "\(error)"
            return text.contains("\n") ? text.split(separator: "\n").joined(separator: "; ") : text
        }
    }

    private static func cocoaCause(_ error: CocoaError) -> String {
        switch error.code {
        case .fileReadNoSuchFile, .fileNoSuchFile: return "no such file or directory"
        case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
        case .fileWriteOutOfSpace: return "no space left on device"
        case .fileWriteVolumeReadOnly: return "read-only file system"
        case .fileReadCorruptFile, .fileReadInapplicableStringEncoding: return "not a readable text file"
        default:
            if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError,
                underlying.domain == NSPOSIXErrorDomain
            {
                return Self.errnoText(Int32(underlying.code))
            }
            return "file error \(error.code.rawValue)"
        }
    }

    /// `what: error:0A080009:SSL routines::PEM lib; …` as `what: PEM lib`.
    static func firstOpenSSLReason(_ reason: String) -> String {
        guard let colon = reason.range(of: ": error:") else { return reason }
        let what = reason[..<colon.lowerBound]
        let first = reason[colon.upperBound...].split(separator: ";").first ?? ""
        let detail = first.split(separator: ":", omittingEmptySubsequences: true).last.map(String.init) ?? String(first)
        return "\(what): \(detail.trimmingCharacters(in: .whitespaces))"
    }
}

/// Checks of the files `keystorm serve` is pointed at, before OpenSSL or Foundation see them.
enum ServeFileCheck {
    /// Throws a one-line ``SettingsError`` naming `setting` and `path` when the file cannot be read.
    static func readable(_ path: String, setting: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SettingsError("\(setting) \(path): cannot be read: \(ServeErrorText.errnoText(errno))")
        }
        close(fd)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw SettingsError("\(setting) \(path): cannot be read: it is a directory")
        }
    }

    /// The server certificate and key: both or neither, and readable.
    static func pair(certificate: String?, key: String?) throws {
        switch (certificate, key) {
        case (nil, nil):
            return
        case (.some(let certificate), nil):
            throw SettingsError(
                "--tls-cert \(certificate) needs --tls-key (key tls.key): the private key of that certificate"
            )
        case (nil, .some(let key)):
            throw SettingsError("--tls-key \(key) needs --tls-cert (key tls.cert): the certificate chain of that key")
        case (.some(let certificate), .some(let key)):
            try Self.readable(certificate, setting: "--tls-cert")
            try Self.readable(key, setting: "--tls-key")
        }
    }
}
