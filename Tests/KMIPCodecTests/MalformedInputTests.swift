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
import Testing

/// Hostile and broken input: every case gives its typed error at the right offset, and nothing is
/// allocated beyond the limits (the parser reserves at most one node per eight input bytes,
/// capped by `maxItems`).
@Suite("Malformed TTLV")
struct MalformedInputTests {
    func expectError(
        _ code: TTLVError.Code,
        at offset: Int? = nil,
        mode: TTLVParsingMode = .strict,
        limits: TTLVLimits = .default,
        _ bytes: [UInt8],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            _ = try TTLV.parse(bytes, mode: mode, limits: limits)
            Issue.record("expected \(code), parsing succeeded", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            if let offset { #expect(error.offset == offset, "\(error)", sourceLocation: sourceLocation) }
        }
    }

    @Test func truncatedHeader() {
        self.expectError(.truncated, at: 0, hex("420020 02 0000"))
    }

    @Test func truncatedValue() {
        self.expectError(.truncated, at: 0, hex("420020 02 00000004 0000"))
    }

    @Test func truncatedChildInsideStructure() {
        // The structure claims 16 bytes but only 12 follow.
        self.expectError(.truncated, hex("420020 01 00000010 420004 05 00000004 000000FE"))
    }

    @Test func childLongerThanItsParent() {
        // The structure holds 16 bytes; the child claims a 16-byte string.
        let bytes = hex("420001 01 00000010 420002 07 00000010 4142434445464748") + hex("420003 02 00000004 00000001 00000000")
        self.expectError(.lengthExceedsParent, at: 8, bytes)
    }

    @Test func lengthLargerThanTheBuffer() {
        self.expectError(.truncated, at: 0, hex("420020 08 00000100 01020304 05060708"))
    }

    @Test func lengthOfTwoToThe31() {
        self.expectError(.truncated, at: 0, hex("420020 08 80000000 0102030405060708"))
        self.expectError(.truncated, at: 0, hex("420020 01 80000000 420004 05 00000004 000000FE 00000000"))
    }

    @Test func framerRefusesTwoToThe31BeforeBuffering() {
        var framer = TTLV.Framer()
        framer.append(hex("420078 01 80000000"))
        expectTTLVError(.messageTooLarge) { try framer.nextMessage() }
        // A length that is not a multiple of eight cannot be a message.
        var odd = TTLV.Framer()
        odd.append(hex("420078 01 00000009"))
        expectTTLVError(.invalidLength) { try odd.nextMessage() }
        // Nor can a primitive.
        var primitive = TTLV.Framer()
        primitive.append(hex("420078 07 00000008"))
        expectTTLVError(.invalidType) { try primitive.nextMessage() }
    }

    @Test func wrongLengthForFixedSizeTypes() {
        self.expectError(.invalidLength, at: 0, hex("420020 02 00000005 0000000800000000"))
        self.expectError(.invalidLength, at: 0, hex("420020 03 00000004 0000000800000000"))
        self.expectError(.invalidLength, at: 0, hex("420020 06 00000004 0000000100000000"))
        self.expectError(.invalidLength, at: 0, hex("420020 09 00000010 00000000000000000000000000000000"))
    }

    @Test func wrongTypeForATag() throws {
        // Well-formed TTLV whose Batch Count is a Text String: the typed read refuses it.
        let document = try TTLV.parse(hex("42000D 07 00000001 3100000000000000"))
        expectTTLVError(.unexpectedType) { try document.integer(0) }
    }

    @Test func invalidTypeByte() {
        self.expectError(.invalidType, at: 0, hex("420020 0C 00000004 0000000800000000"))
        self.expectError(.invalidType, at: 0, hex("420020 00 00000004 0000000800000000"))
    }

    @Test func nonZeroPaddingIsRejectedInStrictModeOnly() throws {
        let bytes = hex("420020 02 00000004 00000008 00000001")
        self.expectError(.nonZeroPadding, at: 0, bytes)
        let item = try TTLVItem(parsing: bytes, mode: .lenient)
        #expect(item.value == .integer(8))
        self.expectError(.nonZeroPadding, at: 0, hex("420020 07 00000001 41 00000000000001"))
    }

    @Test func booleanOtherThanZeroOrOne() {
        self.expectError(.invalidBoolean, at: 0, hex("420020 06 00000008 0000000000000002"))
        self.expectError(.invalidBoolean, at: 0, hex("420020 06 00000008 0100000000000001"))
    }

    @Test func tagOutsideTheKMIPRanges() throws {
        self.expectError(.invalidTag, at: 0, hex("300020 02 00000004 0000000800000000"))
        _ = try TTLV.parse(hex("540001 02 00000004 0000000800000000"))
        _ = try TTLV.parse(hex("300020 02 00000004 0000000800000000"), mode: .lenient)
    }

    @Test func depthBomb() {
        // 100 nested structures, each wrapping the next; the limit is 32.
        var bytes: [UInt8] = []
        let depth = 100
        for level in 0..<depth {
            let length = (depth - level - 1) * 8
            bytes += [0x42, 0x00, 0x20, 0x01]
            bytes += [UInt8(length >> 24 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        }
        self.expectError(.depthLimitExceeded, at: 32 * 8, bytes)
        // Within a higher limit the same message parses.
        #expect(throws: Never.self) { try TTLV.parse(bytes, limits: TTLVLimits(maxDepth: 128)) }
    }

    @Test func oneHundredThousandItems() {
        let count = 100_000
        var s = TTLV.Serializer(capacity: count * 16 + 8)
        s.writeStructure(TTLVTag(0x420020)) { s in
            for i in 0..<count { s.writeInteger(TTLVTag(0x420021), Int32(i)) }
        }
        self.expectError(.itemLimitExceeded, limits: TTLVLimits(maxMessageSize: 4 << 20), s.bytes)
        // The default message size limit stops it even earlier.
        self.expectError(.messageTooLarge, at: 0, s.bytes)
    }

    @Test func bigIntegerOfWrongLength() {
        self.expectError(.invalidLength, at: 0, hex("420020 04 00000005 0102030405000000"))
        self.expectError(.invalidLength, at: 0, hex("420020 04 00000000"))
    }

    @Test func invalidUTF8InTextString() {
        self.expectError(.invalidUTF8, at: 0, hex("420020 07 00000002 C328000000000000"))
        // An overlong encoding of "/" and a lone surrogate.
        self.expectError(.invalidUTF8, at: 0, hex("420020 07 00000002 C0AF000000000000"))
        self.expectError(.invalidUTF8, at: 0, hex("420020 07 00000003 EDA0800000000000"))
        self.expectError(.invalidUTF8, mode: .lenient, hex("420020 07 00000001 FF00000000000000"))
    }

    @Test func trailingBytesAfterTheMessage() {
        self.expectError(.trailingBytes, at: 16, hex("420020 02 00000004 0000000800000000 42"))
    }

    @Test func structureLengthNotAMultipleOfEight() {
        self.expectError(.invalidLength, at: 0, hex("420020 01 00000004 0000000800000000"))
    }

    @Test func messageLargerThanTheLimit() {
        let bytes = [UInt8](repeating: 0, count: 64)
        self.expectError(.messageTooLarge, at: 0, limits: TTLVLimits(maxMessageSize: 32), bytes)
    }
}
