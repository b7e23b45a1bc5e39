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

/// An error raised by a root-key service or by the cryptography under it.
///
/// Equality compares the ``code`` only, so callers and tests match on the kind of failure;
/// ``reason`` explains it for logs. No error ever carries key bytes, plaintext or master keys:
/// reasons name files, ids, versions and lengths only.
///
/// ```swift
/// do {
///     _ = try await service.unwrap(wrapped, rootKeyID: id, aad: aad)
/// } catch RootKeyError.deleted {
///     // crypto-shredded: answer the KMIP client with a clear error
/// }
/// ```
public struct RootKeyError: Error, Hashable, Sendable {
    /// The kind of a ``RootKeyError``.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: Hashable, Sendable {
            case notFound
            case deleted
            case disabled
            case authenticationFailed
            case unavailable
            case unauthorized
            case rateLimited
            case invalidCiphertext
            case invalidArgument
            case io
            case insecurePermissions
            case invalidMasterKey
            case wrongMasterKey
            case corruptKeyFile
            case cryptoFailure
        }

        fileprivate var base: Base

        /// No root key has this id.
        public static let notFound = Code(base: .notFound)
        /// The root key was deleted: everything wrapped under it is shredded.
        public static let deleted = Code(base: .deleted)
        /// The root key is disabled; it wraps and unwraps nothing until enabled again.
        public static let disabled = Code(base: .disabled)
        /// A ciphertext did not authenticate: wrong key, wrong AAD, or modified bytes.
        public static let authenticationFailed = Code(base: .authenticationFailed)
        /// The root-key service cannot be reached or cannot answer now; retrying may help.
        public static let unavailable = Code(base: .unavailable)
        /// The root-key service refused Keystorm's credentials (an unknown API key, a revoked
        /// service ID, a wrong instance). Retrying does not help until the configuration is fixed.
        public static let unauthorized = Code(base: .unauthorized)
        /// The root-key service kept answering "too many requests" until the retry budget was spent.
        public static let rateLimited = Code(base: .rateLimited)
        /// A ciphertext is malformed: too short, an unknown format byte, or a version that does not
        /// match the one recorded with it.
        public static let invalidCiphertext = Code(base: .invalidCiphertext)
        /// An argument is out of range: a key of the wrong length, an empty plaintext.
        public static let invalidArgument = Code(base: .invalidArgument)
        /// A file operation failed (the reason names the file and the `errno`).
        public static let io = Code(base: .io)
        /// A key file is readable by others than its owner; the service refuses to use it.
        public static let insecurePermissions = Code(base: .insecurePermissions)
        /// The master key is malformed: not 32 bytes, or not valid hex or base64.
        public static let invalidMasterKey = Code(base: .invalidMasterKey)
        /// The sealed root-key file does not open under the master key given (or it was modified).
        public static let wrongMasterKey = Code(base: .wrongMasterKey)
        /// The sealed root-key file opened but its contents are not a valid key set, or it is
        /// missing while other state says it should exist.
        public static let corruptKeyFile = Code(base: .corruptKeyFile)
        /// OpenSSL reported an internal failure (the reason holds OpenSSL's error string).
        public static let cryptoFailure = Code(base: .cryptoFailure)

        public var description: String {
            switch self.base {
            case .notFound: "notFound"
            case .deleted: "deleted"
            case .disabled: "disabled"
            case .authenticationFailed: "authenticationFailed"
            case .unavailable: "unavailable"
            case .unauthorized: "unauthorized"
            case .rateLimited: "rateLimited"
            case .invalidCiphertext: "invalidCiphertext"
            case .invalidArgument: "invalidArgument"
            case .io: "io"
            case .insecurePermissions: "insecurePermissions"
            case .invalidMasterKey: "invalidMasterKey"
            case .wrongMasterKey: "wrongMasterKey"
            case .corruptKeyFile: "corruptKeyFile"
            case .cryptoFailure: "cryptoFailure"
            }
        }
    }

    private struct Backing: Hashable, Sendable {
        var code: Code
        var reason: String
        var file: String
        var line: UInt
    }

    private var backing: Backing

    /// The kind of failure.
    public var code: Code { self.backing.code }
    /// A human-readable explanation. Never contains key material.
    public var reason: String { self.backing.reason }
    /// Where in Keystorm the error was raised.
    public var file: String { self.backing.file }
    /// Where in Keystorm the error was raised.
    public var line: UInt { self.backing.line }

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - reason: An explanation for logs. Must never contain key bytes.
    ///   - file: Where the error is raised; leave the default.
    ///   - line: Where the error is raised; leave the default.
    public init(_ code: Code, reason: String, file: String = #fileID, line: UInt = #line) {
        self.backing = Backing(code: code, reason: reason, file: file, line: line)
    }

    public static func == (lhs: RootKeyError, rhs: RootKeyError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

extension RootKeyError.Code {
    /// Lets callers write `catch RootKeyError.deleted`.
    public static func ~= (code: RootKeyError.Code, error: any Error) -> Bool {
        (error as? RootKeyError)?.code == code
    }
}

extension RootKeyError: CustomStringConvertible {
    public var description: String { "RootKeyError.\(self.code): \(self.reason)" }
}

extension RootKeyError {
    public static var notFound: Code { .notFound }
    public static var deleted: Code { .deleted }
    public static var disabled: Code { .disabled }
    public static var authenticationFailed: Code { .authenticationFailed }
    public static var unavailable: Code { .unavailable }
    public static var unauthorized: Code { .unauthorized }
    public static var rateLimited: Code { .rateLimited }
    public static var invalidCiphertext: Code { .invalidCiphertext }
    public static var invalidArgument: Code { .invalidArgument }
    public static var io: Code { .io }
    public static var insecurePermissions: Code { .insecurePermissions }
    public static var invalidMasterKey: Code { .invalidMasterKey }
    public static var wrongMasterKey: Code { .wrongMasterKey }
    public static var corruptKeyFile: Code { .corruptKeyFile }
    public static var cryptoFailure: Code { .cryptoFailure }
}
