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

/// libFuzzer's entry point: the TTLV parser in both modes, every item read back as an owned tree
/// and re-encoded, the framer fed in two pieces, and the typed request and response decoders.
/// Any input must end in a value or a thrown TTLVError: a trap, an overflow or an out-of-bounds
/// read is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTTLV(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    for mode in [TTLVParsingMode.strict, .lenient] {
        if let document = try? TTLV.parse(bytes, mode: mode) {
            // An owned tree of a parsed document encodes back to a document that parses.
            if let item = try? TTLVItem(document: document, index: document.root) {
                let again = item.encoded()
                guard (try? TTLV.parse(again, mode: .lenient)) != nil else {
                    fatalError("a re-encoded item does not parse: \(again.count) bytes")
                }
            }
        }
        // The typed decoders; a decoded message encodes to bytes that decode again.
        if let request = try? RequestMessage(decoding: bytes, mode: mode) {
            guard (try? RequestMessage(decoding: request.encoded(), mode: .lenient)) != nil else {
                fatalError("a decoded request does not decode after re-encoding")
            }
        }
        if let response = try? ResponseMessage(decoding: bytes, mode: mode) {
            guard (try? ResponseMessage(decoding: response.encoded(), mode: .lenient)) != nil else {
                fatalError("a decoded response does not decode after re-encoding")
            }
        }
    }
    // The framer: the input split at an arbitrary point, as two reads would deliver it.
    var framer = TTLV.Framer()
    let split = count == 0 ? 0 : Int(bytes[0]) % (count + 1)
    framer.append(bytes[..<split])
    _ = try? framer.nextMessage()
    framer.append(bytes[split...])
    while let message = try? framer.nextMessage() {
        _ = try? TTLV.parse(message, mode: .lenient)
    }
    return 0
}
