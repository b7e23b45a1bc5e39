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
import KeystormTestSupport
import Testing

/// Every request and response of the OASIS/OVH XML test cases: XML → TTLV bytes → typed model →
/// bytes, identical.
@Suite("OASIS XML test cases through the typed model")
struct OASISTypedModelTests {
    static let files = Fixtures.files(under: Fixtures.oasisDirectory, withSuffix: ".xml")

    @Test("Every message decodes into the typed model and re-encodes identically", arguments: Self.files)
    func typedRoundTrip(file: String) throws {
        let messages = try KMIPXML.parseTestCase(contentsOf: Fixtures.oasisDirectory + "/" + file)
        for (index, message) in messages.enumerated() {
            let bytes = message.item.encoded()
            do {
                let trip = try RoundTrip.run(bytes)
                #expect(trip.reEncoded == bytes, "\(file) message \(index) (line \(message.line)) re-encodes differently")
                #expect(trip.untypedModelledPayloads == 0, "\(file) message \(index) (line \(message.line)) left a payload untyped")
            } catch {
                Issue.record("\(file) message \(index) (line \(message.line)): \(error)")
            }
        }
    }
}
