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

/// The namespace for the TTLV (Tag-Type-Length-Value) wire format of KMIP.
///
/// Every KMIP message is one TTLV item: a 3-byte tag, a 1-byte type, a 4-byte big-endian length,
/// the value and zero padding up to a multiple of eight bytes.
///
/// KMIP 1.4 §9.1.1, KMIP 2.1 §9.1.1
public enum TTLV {}

@available(*, unavailable)
extension TTLV: Sendable {}

/// A KMIP tag: a 24-bit number such as `0x420078` (Request Message).
///
/// Tags `0x420000`-`0x42FFFF` are defined by the specification; `0x540000`-`0x54FFFF` are extensions.
public struct TTLVTag: RawRepresentable, Hashable, Sendable, Comparable {
    public var rawValue: UInt32

    @inlinable
    public init(rawValue: UInt32) {
        self.rawValue = rawValue & 0x00FF_FFFF
    }

    @inlinable
    public init(_ rawValue: UInt32) {
        self.init(rawValue: rawValue)
    }

    /// Whether the tag lies in the extension range `0x540000`-`0x54FFFF`.
    @inlinable
    public var isExtension: Bool { self.rawValue >> 16 == 0x54 }

    /// Whether the tag lies in the range the specification defines, `0x420000`-`0x42FFFF`.
    @inlinable
    public var isStandard: Bool { self.rawValue >> 16 == 0x42 }

    @inlinable
    public static func < (lhs: TTLVTag, rhs: TTLVTag) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension TTLVTag: CustomStringConvertible {
    public var description: String {
        let hex = String(self.rawValue, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 6 - hex.utf8.count)) + hex
    }
}

/// The item types of TTLV.
///
/// KMIP 1.4 §9.1.1.2 (Table 286), KMIP 2.1 §9.1.1.2 (Date-Time Extended is new in 2.0).
public enum TTLVType: UInt8, Hashable, Sendable, CaseIterable {
    case structure = 0x01
    case integer = 0x02
    case longInteger = 0x03
    case bigInteger = 0x04
    case enumeration = 0x05
    case boolean = 0x06
    case textString = 0x07
    case byteString = 0x08
    case dateTime = 0x09
    case interval = 0x0A
    case dateTimeExtended = 0x0B

    /// The value length a fixed-size type must declare, or `nil` for variable-length types.
    @inlinable
    public var fixedLength: Int? {
        switch self {
        case .integer, .enumeration, .interval: 4
        case .longInteger, .boolean, .dateTime, .dateTimeExtended: 8
        case .structure, .bigInteger, .textString, .byteString: nil
        }
    }

    /// The name used by the KMIP XML and JSON profiles, e.g. `"TextString"`.
    public var xmlName: String {
        switch self {
        case .structure: "Structure"
        case .integer: "Integer"
        case .longInteger: "LongInteger"
        case .bigInteger: "BigInteger"
        case .enumeration: "Enumeration"
        case .boolean: "Boolean"
        case .textString: "TextString"
        case .byteString: "ByteString"
        case .dateTime: "DateTime"
        case .interval: "Interval"
        case .dateTimeExtended: "DateTimeExtended"
        }
    }

    /// Looks a type up by its XML/JSON profile name.
    public init?(xmlName: String) {
        guard let type = TTLVType.allCases.first(where: { $0.xmlName == xmlName }) else { return nil }
        self = type
    }
}

extension TTLV {
    /// The size of an item header: tag (3), type (1), length (4).
    public static let headerSize = 8

    /// Rounds a value length up to the next multiple of eight, as every TTLV item is padded.
    @inlinable
    public static func paddedLength(_ length: Int) -> Int {
        (length &+ 7) & ~7
    }
}
