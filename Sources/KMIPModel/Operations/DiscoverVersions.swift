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

public import KMIPCodec

/// Discover Versions request: the versions the client supports, in order of preference.
///
/// > "This operation is used by the client to determine a list of protocol versions that is
/// > supported by the server." An empty list asks for every version the server supports.
///
/// KMIP 1.4 §4.26, KMIP 2.1 §6.1.18
public struct DiscoverVersionsRequest: Hashable, Sendable {
    public var protocolVersions: [ProtocolVersion]

    public init(protocolVersions: [ProtocolVersion] = []) {
        self.protocolVersions = protocolVersions
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.protocolVersions = try reader.decodeAll(.protocolVersion)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.protocolVersion, all: self.protocolVersions)
    }
}

/// Discover Versions response: the supported versions (all of them, or the intersection with
/// the client's list), in decreasing order of preference.
///
/// KMIP 1.4 §4.26, KMIP 2.1 §6.1.18
public struct DiscoverVersionsResponse: Hashable, Sendable {
    public var protocolVersions: [ProtocolVersion]

    public init(protocolVersions: [ProtocolVersion]) {
        self.protocolVersions = protocolVersions
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.protocolVersions = try reader.decodeAll(.protocolVersion)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.protocolVersion, all: self.protocolVersions)
    }
}
