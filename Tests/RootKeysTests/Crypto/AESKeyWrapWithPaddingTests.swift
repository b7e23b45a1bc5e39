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

@Suite("AES Key Wrap with Padding (RFC 5649)")
struct AESKeyWrapWithPaddingTests {
    /// RFC 5649 §6 uses a 192-bit KEK for both examples.
    static let rfcKEK = "5840df6e29b02af1 ab493b705bf16ea1 ae8338f4dcc176a8"

    @Test(
        "RFC 5649 §6 examples",
        arguments: [
            // Wrap 20 octets of key data with a 192-bit KEK.
            (
                "c37b7e6492584340 bed1220780894115 5068f738",
                "138bdeaa9b8fa7fc 61f97742e72248ee 5ae6ae5360d1ae6a 5f54f373fa543b6a"
            ),
            // Wrap 7 octets of key data with a 192-bit KEK (the single-block path).
            ("466f7250617369", "afbeb0f07dfbf541 9200f2ccb50bb24f"),
        ]
    )
    func rfcExamples(keyData: String, wrapped: String) throws {
        let kek = SecretBytes(hex(Self.rfcKEK))
        #expect(try AESKeyWrapWithPadding.wrap(SecretBytes(hex(keyData)), kek: kek) == hex(wrapped))
        #expect(try AESKeyWrapWithPadding.unwrap(hex(wrapped), kek: kek).copyBytes() == hex(keyData))
    }

    @Test("AES-256 KWP round trips every length from 1 to 72 bytes")
    func roundTrip() throws {
        let kek = try KeyGenerator.randomBytes(count: 32)
        for length in 1...72 {
            let key = try KeyGenerator.randomBytes(count: length)
            let wrapped = try AESKeyWrapWithPadding.wrap(key, kek: kek)
            #expect(wrapped.count == (length + 7) / 8 * 8 + 8)
            #expect(try AESKeyWrapWithPadding.wrap(key, kek: kek) == wrapped, "deterministic")
            #expect(try AESKeyWrapWithPadding.unwrap(wrapped, kek: kek).constantTimeEquals(key))
        }
    }

    @Test("a modified ciphertext or a wrong KEK fails the integrity check")
    func integrity() throws {
        let kek = try KeyGenerator.randomBytes(count: 32)
        let wrapped = try AESKeyWrapWithPadding.wrap(try KeyGenerator.randomBytes(count: 32), kek: kek)
        for index in wrapped.indices {
            var modified = wrapped
            modified[index] ^= 0x80
            let error = #expect(throws: RootKeyError.self) { try AESKeyWrapWithPadding.unwrap(modified, kek: kek) }
            #expect(error?.code == .authenticationFailed, "byte \(index)")
        }
        let wrongKEK = #expect(throws: RootKeyError.self) {
            try AESKeyWrapWithPadding.unwrap(wrapped, kek: try KeyGenerator.randomBytes(count: 32))
        }
        #expect(wrongKEK?.code == .authenticationFailed)
    }

    @Test("bad lengths are rejected")
    func badLengths() throws {
        let kek = try KeyGenerator.randomBytes(count: 32)
        for length in [0, 8, 17, 39] {
            let error = #expect(throws: RootKeyError.self) {
                try AESKeyWrapWithPadding.unwrap([UInt8](repeating: 7, count: length), kek: kek)
            }
            #expect(error?.code == .invalidCiphertext, "\(length) bytes")
        }
        let empty = #expect(throws: RootKeyError.self) { try AESKeyWrapWithPadding.wrap(SecretBytes([]), kek: kek) }
        #expect(empty?.code == .invalidArgument)
        let oddKEK = #expect(throws: RootKeyError.self) {
            try AESKeyWrapWithPadding.wrap(SecretBytes([1]), kek: try KeyGenerator.randomBytes(count: 20))
        }
        #expect(oddKEK?.code == .invalidArgument)
    }
}
