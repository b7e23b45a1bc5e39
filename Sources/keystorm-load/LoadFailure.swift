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

/// Why one operation failed, as the report counts it.
///
/// ``key`` names the kind: `connect`, `handshake`, `timeout`, `io`, `protocol`, or
/// `kmip:<Result Reason>` for a KMIP failure the server answered with.
struct LoadFailure: Error, Hashable, Sendable, CustomStringConvertible {
    enum Kind: Hashable, Sendable {
        /// No TCP connection (refused, unreachable, connect timeout).
        case connect
        /// The TLS handshake failed (certificate refused, alert, closed during the handshake).
        case handshake
        /// No response within the timeout.
        case timeout
        /// The connection broke after the handshake.
        case io
        /// The response was not a well-formed KMIP response to the request.
        case `protocol`
        /// The server answered with Result Status Operation Failed and this Result Reason.
        case kmip(reason: String)
    }

    var kind: Kind
    /// What happened, without key material.
    var detail: String

    init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    var key: String {
        switch self.kind {
        case .connect: "connect"
        case .handshake: "handshake"
        case .timeout: "timeout"
        case .io: "io"
        case .protocol: "protocol"
        case .kmip(let reason): "kmip:" + reason
        }
    }

    var description: String { "\(self.key): \(self.detail)" }

    static func == (lhs: LoadFailure, rhs: LoadFailure) -> Bool { lhs.kind == rhs.kind }
    func hash(into hasher: inout Hasher) { hasher.combine(self.key) }
}
