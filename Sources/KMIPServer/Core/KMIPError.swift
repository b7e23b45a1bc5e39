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

public import KMIPModel

/// A failed operation, as the client will see it: a KMIP Result Reason and a message.
///
/// Handlers throw it; the batch executor renders it into the failed batch item. Messages are for
/// operators and clients, and never contain key material.
public struct KMIPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The Result Reason sent to the client.
    public var reason: ResultReason
    /// The Result Message sent to the client.
    public var message: String
    public var file: String
    public var line: UInt

    public init(_ reason: ResultReason, _ message: String, file: String = #fileID, line: UInt = #line) {
        self.reason = reason
        self.message = message
        self.file = file
        self.line = line
    }

    public static func == (lhs: KMIPError, rhs: KMIPError) -> Bool { lhs.reason == rhs.reason }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.reason) }

    public var description: String { "KMIPError(\(self.reason.name)): \(self.message)" }
}

extension ResultReason {
    /// Lets callers write `catch ResultReason.itemNotFound` for a ``KMIPError``.
    public static func ~= (reason: ResultReason, error: any Error) -> Bool {
        (error as? KMIPError)?.reason == reason
    }
}

extension KMIPError {
    static func itemNotFound(_ uid: String) -> KMIPError {
        KMIPError(.itemNotFound, "no object with unique identifier \(uid)")
    }

    /// The reason for an operation refused by the object's state: Permission Denied in 1.x,
    /// Wrong Key Lifecycle State in 2.x (SKLC-M-2-1x vs SKLC-M-2-21).
    static func wrongState(_ version: ProtocolVersion, _ message: String) -> KMIPError {
        KMIPError(version.major >= 2 ? .wrongKeyLifecycleState : .permissionDenied, message)
    }
}
