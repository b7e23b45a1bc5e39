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

import Testing

@testable import RootKeys

@Suite("KeyGenerator and HKDF")
struct KeyGeneratorTests {
    @Test("random bytes have the requested length and differ between calls")
    func randomBytes() throws {
        let first = try KeyGenerator.randomBytes(count: 32)
        let second = try KeyGenerator.randomBytes(count: 32)
        #expect(first.count == 32)
        #expect(!first.constantTimeEquals(second))
        #expect(first.copyBytes() != [UInt8](repeating: 0, count: 32))
        #expect(try KeyGenerator.randomBytes(count: 0).count == 0)
        #expect(try KeyGenerator.randomBytes(count: 4096).count == 4096)
    }

    @Test("a negative count is an invalid argument")
    func negativeCount() {
        let error = #expect(throws: RootKeyError.self) { try KeyGenerator.randomBytes(count: -1) }
        #expect(error?.code == .invalidArgument)
    }

    @Test("root-key ids are version 4 UUIDs")
    func uuids() throws {
        let id = try KeyGenerator.uuidString()
        let groups = id.split(separator: "-")
        #expect(groups.map(\.count) == [8, 4, 4, 4, 12])
        #expect(groups[2].first == "4")
        #expect(["8", "9", "a", "b"].contains(groups[3].first))
        #expect(try KeyGenerator.uuidString() != id)
    }

    @Test("HKDF-Expand-SHA256 matches RFC 5869 test case 1 (first block)")
    func hkdfExpand() throws {
        let prk = hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
        let okm = try prk.withUnsafeBytes { try HKDF.expandSHA256(prk: $0, info: hex("f0f1f2f3f4f5f6f7f8f9")) }
        #expect(okm.copyBytes() == hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"))
    }
}
