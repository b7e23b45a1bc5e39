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

@Suite("SecretBytes and RootKeyError")
struct SecretBytesTests {
    @Test("wipe zeroes an array in place and keeps its length")
    func wipeArray() {
        var bytes: [UInt8] = [0xDE, 0xAD, 0xBE, 0xEF, 0x01]
        SecretBytes.wipe(&bytes)
        #expect(bytes == [0, 0, 0, 0, 0])
    }

    @Test("wipe zeroes a raw buffer")
    func wipeBuffer() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 16)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xA5)
        SecretBytes.wipe(buffer)
        #expect(buffer.allSatisfy { $0 == 0 })
    }

    @Test("descriptions show the length only")
    func descriptions() throws {
        let secret = SecretBytes([0xAB, 0xCD, 0xEF, 0x12])
        #expect(secret.description == "SecretBytes(4 bytes)")
        #expect(secret.debugDescription == "SecretBytes(4 bytes)")
        for text in ["\(secret)", String(reflecting: secret), String(describing: [secret])] {
            #expect(!text.lowercased().contains("abcdef"), "\(text)")
            #expect(!text.contains("171"), "\(text)")
        }
        let key = try KeyGenerator.randomBytes(count: 32)
        let keyHex = ByteEncoding.hex(key.copyBytes())
        #expect(!"\(key)".contains(keyHex))
    }

    @Test("contents, copies and constant-time equality")
    func contents() {
        let a = SecretBytes([1, 2, 3])
        #expect(a.count == 3)
        #expect(a.copyBytes() == [1, 2, 3])
        #expect(a.constantTimeEquals(SecretBytes([1, 2, 3])))
        #expect(!a.constantTimeEquals(SecretBytes([1, 2, 4])))
        #expect(!a.constantTimeEquals(SecretBytes([1, 2])))
        #expect(SecretBytes([]).count == 0)
    }

    @Test("errors compare by code and match in catch patterns")
    func errors() {
        let error = RootKeyError(.deleted, reason: "root key k was deleted")
        #expect(error == RootKeyError(.deleted, reason: "another reason"))
        #expect(error != RootKeyError(.disabled, reason: "root key k was deleted"))
        #expect("\(error)" == "RootKeyError.deleted: root key k was deleted")
        switch error as any Error {
        case RootKeyError.deleted: break
        default: Issue.record("a deleted error should match RootKeyError.deleted")
        }
    }
}
