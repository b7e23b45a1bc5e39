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
import Testing

/// The real vCenter 7.0.3 wire capture, read from `../shared/kmip-vectors/derived`; it is never
/// copied into this repository (licence). When it is absent the suite says so and skips.
@Suite("vCenter 7.0.3 capture")
struct VCenterCaptureTests {
    static let rows: [[String]]? = try? VectorFiles.rows("vmware-vcenter-7.0.3-wire.tsv", hasHeader: true)

    @Test(.enabled(if: rows != nil, "skipped: capture absent (../shared/kmip-vectors/derived/vmware-vcenter-7.0.3-wire.tsv)"))
    func all204MessagesDecodeAndReEncodeByteIdentical() throws {
        let rows = try #require(Self.rows)
        #expect(rows.count == 204)
        var decoded = 0
        for row in rows {
            let label = "\(row[0]) \(row[1]) \(row[3]) \(row[4])"
            let bytes = VectorFiles.hex(row[7])
            do {
                let trip = try RoundTrip.run(bytes)
                #expect(trip.reEncoded == bytes, "\(label) re-encodes byte-identical")
                #expect(trip.untypedModelledPayloads == 0, "\(label) left a payload untyped")
                decoded += 1
            } catch {
                Issue.record("\(label): \(error)")
            }
        }
        #expect(decoded == 204)
    }

    @Test(.enabled(if: rows != nil, "skipped: capture absent"))
    func addAttributeBatchDecodesAsThreeCustomAttributes() throws {
        let rows = try #require(Self.rows)
        let row = try #require(rows.first { $0[3] == "Request" && $0[4].contains("AddAttribute") })
        let message = try RequestMessage(decoding: VectorFiles.hex(row[7]))
        #expect(message.header.protocolVersion == .v1_1)
        #expect(message.batchItems.count == 3)
        for (i, item) in message.batchItems.enumerated() {
            #expect(item.uniqueBatchItemID == [0x51, 0x4C, 0x4B, 0x43, UInt8(i + 1), 0, 0, 0])
            guard case .addAttribute(let add) = item.payload else {
                Issue.record("item \(i) is not Add Attribute")
                continue
            }
            guard case .vendor(let vendor, _) = add.attribute.name else {
                Issue.record("\(add.attribute.name) is not a custom attribute")
                continue
            }
            #expect(vendor == "x")
            #expect(add.attribute.value.type == .textString)
        }
    }
}
