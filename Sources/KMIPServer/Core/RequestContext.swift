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

/// Who is asking, over which connection, in which protocol version.
public struct RequestContext: Sendable {
    /// The tenant the client certificate maps to.
    public var tenantID: String
    /// Lower-case hex SHA-256 of the client certificate, for the audit log.
    public var clientFingerprint: String
    /// The protocol version of the request (answers use it).
    public var version: ProtocolVersion
    /// Seconds since the epoch, fixed for the whole request.
    public var now: Int64

    public init(tenantID: String, clientFingerprint: String, version: ProtocolVersion, now: Int64) {
        self.tenantID = tenantID
        self.clientFingerprint = clientFingerprint
        self.version = version
        self.now = now
    }
}

/// The identity of a client, established by the transport before any KMIP byte is read.
public struct ClientIdentity: Hashable, Sendable {
    public var tenantID: String
    public var fingerprint: String
    /// The client rule that admitted the client (`nil` when no rule did, e.g. in tests): removing
    /// that rule closes the client's open connections.
    public var ruleID: String?

    public init(tenantID: String, fingerprint: String, ruleID: String? = nil) {
        self.tenantID = tenantID
        self.fingerprint = fingerprint
        self.ruleID = ruleID
    }
}
