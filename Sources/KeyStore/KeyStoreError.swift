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

/// An error thrown by a ``KeyStore``.
///
/// Equality compares the ``code`` only, so callers and tests match on the kind of failure
/// (`catch KeyStoreError.notFound`); ``reason`` explains it for logs. A reason names tables,
/// columns, tenant ids and unique identifiers, never a stored value: no error carries key
/// material, wrapped or not.
public struct KeyStoreError: Error, Hashable, Sendable {
    /// The kind of a ``KeyStoreError``.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: Hashable, Sendable {
            case notFound
            case alreadyExists
            case conflict
            case invalidName
            case storage
            case unavailable
        }

        fileprivate var base: Base

        /// The tenant, client rule or object does not exist (in this tenant).
        public static let notFound = Code(base: .notFound)
        /// A tenant, client rule or object with the same identifier already exists.
        public static let alreadyExists = Code(base: .alreadyExists)
        /// An optimistic-concurrency check failed: the object changed since it was read.
        public static let conflict = Code(base: .conflict)
        /// A tenant id or another operator-chosen name breaks ``NameRules``.
        public static let invalidName = Code(base: .invalidName)
        /// The database failed (I/O, corruption, a full disk, a schema from a newer version) or
        /// holds a row that does not decode.
        public static let storage = Code(base: .storage)
        /// The store cannot be reached now (a shared database that is down, restarting, out of
        /// reach or a read-only standby); the call may succeed when retried later.
        public static let unavailable = Code(base: .unavailable)

        public var description: String {
            switch self.base {
            case .notFound: "notFound"
            case .alreadyExists: "alreadyExists"
            case .conflict: "conflict"
            case .invalidName: "invalidName"
            case .storage: "storage"
            case .unavailable: "unavailable"
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
    /// A human-readable explanation. Never contains a stored value.
    public var reason: String { self.backing.reason }
    /// Where in Keystorm the error was raised.
    public var file: String { self.backing.file }
    /// Where in Keystorm the error was raised.
    public var line: UInt { self.backing.line }

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - reason: An explanation for logs; it must not contain key material.
    public init(_ code: Code, reason: String, file: String = #fileID, line: UInt = #line) {
        self.backing = Backing(code: code, reason: reason, file: file, line: line)
    }

    public static func == (lhs: KeyStoreError, rhs: KeyStoreError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

extension KeyStoreError.Code {
    /// Lets callers write `catch KeyStoreError.notFound`.
    public static func ~= (code: KeyStoreError.Code, error: any Error) -> Bool {
        (error as? KeyStoreError)?.code == code
    }
}

extension KeyStoreError: CustomStringConvertible {
    public var description: String {
        "KeyStoreError.\(self.code): \(self.reason) (\(self.file):\(self.line))"
    }
}

extension KeyStoreError {
    public static var notFound: Code { .notFound }
    public static var alreadyExists: Code { .alreadyExists }
    public static var conflict: Code { .conflict }
    public static var invalidName: Code { .invalidName }
    public static var storage: Code { .storage }
    public static var unavailable: Code { .unavailable }
}
