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

import KMIPCodec
import KMIPModel

/// Reads the `value` attribute of a primitive element as its TTLV type.
///
/// KMIP Profiles 1.4 §6.1: Integers and Long Integers are decimal or `0x` hex, and an Integer
/// mask may instead list bit names separated by spaces; Big Integers and Byte Strings are hex;
/// Enumerations are value names or `0x` hex; Booleans are `true`/`false`; Date-Times are ISO 8601.
enum XMLValueReader {
    static func value(
        _ text: String,
        type: TTLVType,
        context: TTLVTag,
        line: Int
    ) throws(KMIPXMLError) -> TTLVValue {
        func invalid() -> KMIPXMLError {
            KMIPXMLError(.invalidValue, line: line, reason: "'\(text)' is not a valid \(type.xmlName)")
        }
        switch type {
        case .structure:
            throw invalid()
        case .integer:
            if let hex = Self.hex32(text) { return .integer(Int32(bitPattern: hex)) }
            if let value = Int32(text) { return .integer(value) }
            return .integer(try Self.mask(text, context: context, line: line))
        case .longInteger:
            if let hex = Self.hex(text, bytes: 8) { return .longInteger(Int64(bitPattern: hex)) }
            guard let value = Int64(text) else { throw invalid() }
            return .longInteger(value)
        case .bigInteger:
            guard let bytes = Self.hexBytes(text.hasPrefix("0x") ? String(text.dropFirst(2)) : text), !bytes.isEmpty
            else { throw invalid() }
            return .bigInteger(Self.signExtended(bytes))
        case .enumeration:
            guard let value = KMIPEnumerations.value(named: text, forTag: context) else {
                let name = KMIPTags.xmlName(of: context) ?? context.description
                throw KMIPXMLError(
                    .unresolvedName,
                    line: line,
                    reason: "'\(text)' is no value of the \(name) enumeration"
                )
            }
            return .enumeration(value)
        case .boolean:
            switch text {
            case "true": return .boolean(true)
            case "false": return .boolean(false)
            default:
                guard let hex = Self.hex(text, bytes: 8), hex <= 1 else { throw invalid() }
                return .boolean(hex == 1)
            }
        case .textString:
            return .textString(text)
        case .byteString:
            guard let bytes = Self.hexBytes(text) else { throw invalid() }
            return .byteString(bytes)
        case .dateTime:
            if let hex = Self.hex(text, bytes: 8) { return .dateTime(Int64(bitPattern: hex)) }
            guard let micros = ISO8601.microseconds(text) else { throw invalid() }
            guard micros % 1_000_000 == 0 else { throw invalid() }
            return .dateTime(micros / 1_000_000)
        case .interval:
            if let hex = Self.hex32(text) { return .interval(hex) }
            guard let value = UInt32(text) else { throw invalid() }
            return .interval(value)
        case .dateTimeExtended:
            if let hex = Self.hex(text, bytes: 8) { return .dateTimeExtended(Int64(bitPattern: hex)) }
            guard let micros = ISO8601.microseconds(text) else { throw invalid() }
            return .dateTimeExtended(micros)
        }
    }

    /// ORs the bits named in a space-separated list such as `"Decrypt Encrypt"`.
    static func mask(_ text: String, context: TTLVTag, line: Int) throws(KMIPXMLError) -> Int32 {
        let names = text.split(whereSeparator: { $0 == " " || $0 == "|" })
        guard !names.isEmpty else {
            throw KMIPXMLError(.invalidValue, line: line, reason: "empty Integer value")
        }
        var mask: Int32 = 0
        for name in names {
            guard let bit = KMIPEnumerations.maskBit(named: String(name), forTag: context) else {
                let tagName = KMIPTags.xmlName(of: context) ?? context.description
                throw KMIPXMLError(.unresolvedName, line: line, reason: "'\(name)' is no bit of the \(tagName) mask")
            }
            mask |= bit
        }
        return mask
    }

    /// Replaces every run of two or more ASCII whitespace characters with one space.
    ///
    /// The v1.0 profile files extracted from HTML and the OVH files have doubled spaces inside
    /// values, e.g. `"Cryptographic   Usage Mask"`. Single characters are left alone.
    static func collapsingWhitespace(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var pending: Character?
        var runLength = 0
        for character in text {
            if character == " " || character == "\t" || character == "\n" || character == "\r" || character == "\r\n" {
                runLength += 1
                pending = runLength == 1 ? character : " "
                continue
            }
            if let space = pending { result.append(space) }
            pending = nil
            runLength = 0
            result.append(character)
        }
        if let space = pending { result.append(space) }
        return result
    }

    /// Splits `$NAME` or `$NOW+n` / `$NOW-n` into name and offset.
    static func placeholder(_ text: String) -> (String, Int64)? {
        let scalars = Array(text.unicodeScalars)
        guard scalars.first == "$" else { return nil }
        var end = 1
        while end < scalars.count,
            ("A"..."Z").contains(scalars[end]) || ("0"..."9").contains(scalars[end]) || scalars[end] == "_"
        {
            end += 1
        }
        guard end > 1 else { return nil }
        let name = String(String.UnicodeScalarView(scalars[0..<end]))
        guard end < scalars.count else { return (name, 0) }
        let rest = String(String.UnicodeScalarView(scalars[end...]))
        guard rest.count > 1, rest.first == "+" || rest.first == "-", let offset = Int64(rest) else { return nil }
        return (name, offset)
    }

    static func isNumeric(_ text: String) -> Bool {
        Int64(text) != nil || Self.hex(text, bytes: 8) != nil
    }

    static func hexTag(_ text: String) -> TTLVTag? {
        guard let value = Self.hex(text, bytes: 3) else { return nil }
        return TTLVTag(UInt32(value))
    }

    private static func hex32(_ text: String) -> UInt32? {
        Self.hex(text, bytes: 4).map { UInt32($0) }
    }

    /// A `0x`-prefixed hex number of at most `bytes` bytes.
    private static func hex(_ text: String, bytes: Int) -> UInt64? {
        guard text.hasPrefix("0x") else { return nil }
        let digits = text.dropFirst(2)
        guard !digits.isEmpty, digits.count <= bytes * 2 else { return nil }
        return UInt64(digits, radix: 16)
    }

    /// Bytes from an even-length hex string (either case); the empty string is no bytes.
    static func hexBytes(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = Self.nibble(utf8[index]), let low = Self.nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Pads two's-complement bytes on the left with sign bytes to a multiple of eight, as TTLV
    /// requires of a Big Integer (KMIP 1.4 §9.1.1.4).
    static func signExtended(_ bytes: [UInt8]) -> [UInt8] {
        let padding = TTLV.paddedLength(bytes.count) - bytes.count
        guard padding > 0 else { return bytes }
        let sign: UInt8 = bytes[0] & 0x80 == 0 ? 0x00 : 0xFF
        return [UInt8](repeating: sign, count: padding) + bytes
    }
}
