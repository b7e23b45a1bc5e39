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

import Foundation
import Testing

@testable import RootKeys

@Suite("Hex and base64 for master keys")
struct ByteEncodingTests {
    @Test("hex round trips in either case and rejects odd or non-hex input")
    func hexCoding() {
        let bytes: [UInt8] = [0x00, 0x0F, 0xA5, 0xFF]
        #expect(ByteEncoding.hex(bytes) == "000fa5ff")
        #expect(ByteEncoding.decodeHex(Array("000fa5ff".utf8)) == bytes)
        #expect(ByteEncoding.decodeHex(Array("000FA5FF".utf8)) == bytes)
        #expect(ByteEncoding.decodeHex(Array("000fa5f".utf8)) == nil)
        #expect(ByteEncoding.decodeHex(Array("000fa5fg".utf8)) == nil)
    }

    @Test("base64 agrees with Foundation, with or without padding, standard or URL-safe")
    func base64Coding() throws {
        for length in 0...40 {
            let bytes = try KeyGenerator.randomBytes(count: length).copyBytes()
            let standard = Data(bytes).base64EncodedString()
            #expect(ByteEncoding.decodeBase64(Array(standard.utf8)) == bytes)
            let unpadded = standard.replacingOccurrences(of: "=", with: "")
            #expect(ByteEncoding.decodeBase64(Array(unpadded.utf8)) == bytes)
            let urlSafe = standard.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            #expect(ByteEncoding.decodeBase64(Array(urlSafe.utf8)) == bytes)
        }
        #expect(ByteEncoding.decodeBase64(Array("abcde".utf8)) == nil)
        #expect(ByteEncoding.decodeBase64(Array("ab*d".utf8)) == nil)
    }
}
