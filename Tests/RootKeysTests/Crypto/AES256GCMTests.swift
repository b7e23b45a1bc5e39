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

@Suite("AES-256-GCM")
struct AES256GCMTests {
    /// The GCM specification's test cases (McGrew and Viega, "The Galois/Counter Mode of
    /// Operation", appendix B), as NIST's gcmEncryptExtIV256 vectors repeat them.
    struct Vector: Sendable, CustomStringConvertible {
        var name: String
        var key: String
        var nonce: String
        var plaintext: String
        var aad: String
        var ciphertext: String
        var tag: String
        var description: String { self.name }
    }

    static let vectors: [Vector] = [
        Vector(
            name: "test case 14: zero key, one zero block, no AAD",
            key: String(repeating: "00", count: 32),
            nonce: String(repeating: "00", count: 12),
            plaintext: String(repeating: "00", count: 16),
            aad: "",
            ciphertext: "cea7403d4d606b6e074ec5d3baf39d18",
            tag: "d0d1c8a799996bf0265b98b5d48ab919"
        ),
        Vector(
            name: "test case 16: 60 bytes with 20 bytes of AAD",
            key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
            nonce: "cafebabefacedbaddecaf888",
            plaintext: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            tag: "76fc6ece0f4e1768cddf8853bb2d551b"
        ),
    ]

    @Test("known-answer vectors", arguments: Self.vectors)
    func knownAnswer(_ vector: Vector) throws {
        let key = hex(vector.key)
        let nonce = hex(vector.nonce)
        let plaintext = hex(vector.plaintext)
        let aad = hex(vector.aad)
        let sealed = try plaintext.withUnsafeBytes { plaintext in
            try key.withUnsafeBytes { key in
                try nonce.withUnsafeBytes { nonce in
                    try aad.withUnsafeBytes { aad in
                        try AES256GCM.seal(plaintext: plaintext, key: key, nonce: nonce, aad: aad)
                    }
                }
            }
        }
        #expect(sealed == [AES256GCM.formatVersion] + nonce + hex(vector.ciphertext) + hex(vector.tag))

        let opened = try AES256GCM.open(sealed, key: SecretBytes(key), aad: aad)
        #expect(opened.copyBytes() == plaintext)
    }

    @Test("seal and open round trip, with fresh nonces")
    func roundTrip() throws {
        let key = try KeyGenerator.randomBytes(count: 32)
        let aad = Array("tenant-a/0f6d4c1e".utf8)
        for length in [0, 1, 15, 16, 17, 32, 100] {
            let plaintext = try KeyGenerator.randomBytes(count: length)
            let first = try AES256GCM.seal(plaintext, key: key, aad: aad)
            let second = try AES256GCM.seal(plaintext, key: key, aad: aad)
            #expect(first.count == length + AES256GCM.overhead)
            #expect(first[0] == 1)
            #expect(first != second, "a fresh random nonce per seal")
            #expect(try AES256GCM.open(first, key: key, aad: aad).constantTimeEquals(plaintext))
            #expect(try AES256GCM.open(second, key: key, aad: aad).constantTimeEquals(plaintext))
        }
    }

    @Test("a different AAD fails authentication")
    func aadMismatch() throws {
        let key = try KeyGenerator.randomBytes(count: 32)
        let sealed = try AES256GCM.seal(
            try KeyGenerator.randomBytes(count: 32),
            key: key,
            aad: Array("tenant-a/1".utf8)
        )
        for aad in ["tenant-a/2", "tenant-b/1", ""] {
            let error = #expect(throws: RootKeyError.self) {
                try AES256GCM.open(sealed, key: key, aad: Array(aad.utf8))
            }
            #expect(error?.code == .authenticationFailed)
        }
    }

    @Test("any modified byte of nonce, ciphertext or tag fails authentication")
    func tampering() throws {
        let key = try KeyGenerator.randomBytes(count: 32)
        let sealed = try AES256GCM.seal(try KeyGenerator.randomBytes(count: 32), key: key, aad: [1, 2, 3])
        for index in 1..<sealed.count {
            var modified = sealed
            modified[index] ^= 0x01
            let error = #expect(throws: RootKeyError.self) { try AES256GCM.open(modified, key: key, aad: [1, 2, 3]) }
            #expect(error?.code == .authenticationFailed, "byte \(index)")
        }
    }

    @Test("a wrong key fails authentication")
    func wrongKey() throws {
        let sealed = try AES256GCM.seal(SecretBytes([1, 2, 3]), key: try KeyGenerator.randomBytes(count: 32), aad: [])
        let error = #expect(throws: RootKeyError.self) {
            try AES256GCM.open(sealed, key: try KeyGenerator.randomBytes(count: 32), aad: [])
        }
        #expect(error?.code == .authenticationFailed)
    }

    @Test("malformed boxes and keys are rejected before decryption")
    func malformed() throws {
        let key = try KeyGenerator.randomBytes(count: 32)
        let sealed = try AES256GCM.seal(SecretBytes([9, 9]), key: key, aad: [])

        let short = #expect(throws: RootKeyError.self) {
            try AES256GCM.open(Array(sealed.prefix(28)), key: key, aad: [])
        }
        #expect(short?.code == .invalidCiphertext)

        var otherVersion = sealed
        otherVersion[0] = 2
        let version = #expect(throws: RootKeyError.self) { try AES256GCM.open(otherVersion, key: key, aad: []) }
        #expect(version?.code == .invalidCiphertext)

        let shortKey = #expect(throws: RootKeyError.self) {
            try AES256GCM.seal(SecretBytes([1]), key: try KeyGenerator.randomBytes(count: 16), aad: [])
        }
        #expect(shortKey?.code == .invalidArgument)
    }
}
