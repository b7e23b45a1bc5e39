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

/// A KMIP protocol version.
///
/// > Protocol Version: "This field contains the version number of the protocol, ensuring that the
/// > protocol is fully understood by both communicating parties." (Major, Minor)
///
/// KMIP 1.4 §6.1, KMIP 2.1 §7.1
public struct ProtocolVersion: KMIPStructure, Hashable, Sendable, Comparable, CustomStringConvertible {
    public static let tag = TTLVTag.protocolVersion

    public var major: Int32
    public var minor: Int32

    public init(major: Int32, minor: Int32) {
        self.major = major
        self.minor = minor
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.major = try reader.required(try reader.integer(.protocolVersionMajor), .protocolVersionMajor)
        self.minor = try reader.required(try reader.integer(.protocolVersionMinor), .protocolVersionMinor)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.serializer.writeInteger(.protocolVersionMajor, self.major)
        encoder.serializer.writeInteger(.protocolVersionMinor, self.minor)
    }

    public static func < (lhs: ProtocolVersion, rhs: ProtocolVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    public var description: String { "\(self.major).\(self.minor)" }

    /// Whether this is a KMIP 2.x (or later) version, which uses `Attributes` instead of named attributes.
    public var usesTaggedAttributes: Bool { self.major >= 2 }

    public static let v1_0 = ProtocolVersion(major: 1, minor: 0)
    public static let v1_1 = ProtocolVersion(major: 1, minor: 1)
    public static let v1_2 = ProtocolVersion(major: 1, minor: 2)
    public static let v1_3 = ProtocolVersion(major: 1, minor: 3)
    public static let v1_4 = ProtocolVersion(major: 1, minor: 4)
    public static let v2_0 = ProtocolVersion(major: 2, minor: 0)
    public static let v2_1 = ProtocolVersion(major: 2, minor: 1)
}
