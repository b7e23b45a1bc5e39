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

/// The one error of the control plane: what an operator asked for failed, and why.
///
/// Equality compares the ``code`` only, so callers, the admin API and tests match on the kind of
/// failure (`catch ControlError.notFound`); ``reason`` is one line for the operator that names the
/// file, value or operation and the cause. No reason ever carries key material.
///
/// The admin API maps each code to an HTTP status; the CLI prints ``reason`` as one line.
public struct ControlError: Error, Hashable, Sendable {
    /// The kind of a ``ControlError``.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: Hashable, Sendable, CaseIterable {
            case invalidName
            case badRequest
            case notFound
            case alreadyExists
            case conflict
            case permissionDenied
            case rootKeyDeleted
            case rootKeyDisabled
            case providerMismatch
            case diskFull
            case storeUnavailable
            case rootKeyServiceUnavailable
            case internalError
        }

        fileprivate var base: Base

        /// A tenant id, client name or another operator-chosen name is not allowed.
        public static let invalidName = Code(base: .invalidName)
        /// The request is malformed: an unreadable certificate or CSR, a bad value.
        public static let badRequest = Code(base: .badRequest)
        /// The tenant, client rule, key or file does not exist.
        public static let notFound = Code(base: .notFound)
        /// A tenant, rule or file of that name or fingerprint exists already.
        public static let alreadyExists = Code(base: .alreadyExists)
        /// The object's state forbids the change (revoke an Active key before destroying it, ...).
        public static let conflict = Code(base: .conflict)
        /// The operating system refused access to a file or directory.
        public static let permissionDenied = Code(base: .permissionDenied)
        /// The tenant's root key is deleted: its keys are crypto-shredded.
        public static let rootKeyDeleted = Code(base: .rootKeyDeleted)
        /// The tenant's root key is disabled in its service.
        public static let rootKeyDisabled = Code(base: .rootKeyDisabled)
        /// The tenant's root key lives in another root-key service than the one configured.
        public static let providerMismatch = Code(base: .providerMismatch)
        /// The disk holding the data directory is full.
        public static let diskFull = Code(base: .diskFull)
        /// The key store cannot be opened, read or written.
        public static let storeUnavailable = Code(base: .storeUnavailable)
        /// The root-key service does not answer, or refuses Keystorm's credentials.
        public static let rootKeyServiceUnavailable = Code(base: .rootKeyServiceUnavailable)
        /// A failure Keystorm did not expect; its reason says where.
        public static let internalError = Code(base: .internalError)

        /// Every code, for exhaustive tests and mappings.
        public static var allCases: [Code] { Base.allCases.map { Code(base: $0) } }

        public var description: String {
            switch self.base {
            case .invalidName: "invalidName"
            case .badRequest: "badRequest"
            case .notFound: "notFound"
            case .alreadyExists: "alreadyExists"
            case .conflict: "conflict"
            case .permissionDenied: "permissionDenied"
            case .rootKeyDeleted: "rootKeyDeleted"
            case .rootKeyDisabled: "rootKeyDisabled"
            case .providerMismatch: "providerMismatch"
            case .diskFull: "diskFull"
            case .storeUnavailable: "storeUnavailable"
            case .rootKeyServiceUnavailable: "rootKeyServiceUnavailable"
            case .internalError: "internalError"
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
    /// One line for the operator: the file, value or operation, and the cause.
    public var reason: String { self.backing.reason }
    /// Where in Keystorm the error was raised.
    public var file: String { self.backing.file }
    /// Where in Keystorm the error was raised.
    public var line: UInt { self.backing.line }

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - reason: One line naming what failed and why; it must not contain key material.
    ///   - file: Where the error is raised; leave the default.
    ///   - line: Where the error is raised; leave the default.
    public init(_ code: Code, _ reason: String, file: String = #fileID, line: UInt = #line) {
        let oneLine = reason.split(whereSeparator: \.isNewline).joined(separator: " ")
        self.backing = Backing(code: code, reason: oneLine, file: file, line: line)
    }

    public static func == (lhs: ControlError, rhs: ControlError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

extension ControlError.Code {
    /// Lets callers write `catch ControlError.notFound`.
    public static func ~= (code: ControlError.Code, error: any Error) -> Bool {
        (error as? ControlError)?.code == code
    }
}

extension ControlError: CustomStringConvertible {
    /// The reason alone: what the CLI prints and the admin API answers.
    public var description: String { self.reason }
}

extension ControlError {
    public static var invalidName: Code { .invalidName }
    public static var badRequest: Code { .badRequest }
    public static var notFound: Code { .notFound }
    public static var alreadyExists: Code { .alreadyExists }
    public static var conflict: Code { .conflict }
    public static var permissionDenied: Code { .permissionDenied }
    public static var rootKeyDeleted: Code { .rootKeyDeleted }
    public static var rootKeyDisabled: Code { .rootKeyDisabled }
    public static var providerMismatch: Code { .providerMismatch }
    public static var diskFull: Code { .diskFull }
    public static var storeUnavailable: Code { .storeUnavailable }
    public static var rootKeyServiceUnavailable: Code { .rootKeyServiceUnavailable }
    public static var internalError: Code { .internalError }
}
