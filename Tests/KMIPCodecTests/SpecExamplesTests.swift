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

/// The ten encoding examples of KMIP 1.4 §9.1.2, read from `derived/ttlv-spec-9.1.2-examples.tsv`.
@Suite("KMIP 1.4 §9.1.2 encoding examples")
struct SpecExamplesTests {
    static let expected: [UInt8: TTLVValue] = [
        0x02: .integer(8),
        0x03: .longInteger(123_456_789_000_000_000),
        0x04: .bigInteger(hex("0000000003FD35EB6BC2DF4618080000")),
        0x05: .enumeration(255),
        0x06: .boolean(true),
        0x07: .textString("Hello World"),
        0x08: .byteString([1, 2, 3]),
        0x09: .dateTime(1_205_495_800),
        0x0A: .interval(864_000),
        0x01: .structure([
            TTLVItem(TTLVTag(0x420004), .enumeration(254)), TTLVItem(TTLVTag(0x420005), .integer(255)),
        ]),
    ]

    @Test func allTenExamplesDecodeAndReEncodeExactly() throws {
        let rows = try tsvRows("ttlv-spec-9.1.2-examples.tsv")
        #expect(rows.count == 10)
        for row in rows {
            let type = UInt8(row[1], radix: 16)!
            let bytes = hex(row[2])
            let item = try TTLVItem(parsing: bytes)
            #expect(item.tag == TTLVTag(0x420020), "\(row[0])")
            #expect(item.value == Self.expected[type], "\(row[0])")
            #expect(item.encoded() == bytes, "\(row[0]) re-encodes")
            // Encoding the expected value from scratch gives the spec's bytes too.
            #expect(TTLVItem(TTLVTag(0x420020), Self.expected[type]!).encoded() == bytes, "\(row[0]) encodes")
        }
    }

    @Test func bigIntegerIsSignExtendedToEightBytes() {
        var s = TTLV.Serializer()
        s.writeBigInteger(TTLVTag(0x420020), [0xFF, 0x01])
        #expect(s.bytes == hex("420020 04 00000008 FFFFFFFFFFFFFF01"))
        var t = TTLV.Serializer()
        t.writeBigInteger(TTLVTag(0x420020), [0x01])
        #expect(t.bytes == hex("420020 04 00000008 0000000000000001"))
    }

    @Test func flatNodesDescribeTheStructure() throws {
        let bytes = hex("42002001000000204200040500000004000000FE000000004200050200000004000000FF00000000")
        let document = try TTLV.parse(bytes)
        #expect(document.nodes.count == 3)
        #expect(document.nodes[0].subtreeEnd == 3)
        #expect(document.nodes[1].depth == 1)
        #expect(Array(document.children(of: 0)) == [1, 2])
        #expect(try document.enumeration(1) == 254)
        #expect(try document.integer(2) == 255)
        expectTTLVError(.unexpectedType) { try document.textString(2) }
    }
}
