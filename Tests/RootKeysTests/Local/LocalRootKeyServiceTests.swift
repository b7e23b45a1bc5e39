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

/// Opens a Local service in `directory` with `master.key` there.
func openService(
    _ directory: String,
    algorithm: LocalRootKeyService.WrapAlgorithm = .aes256GCM
) async throws -> LocalRootKeyService {
    try await LocalRootKeyService.open(
        .init(dataDirectory: directory, masterKey: .file(directory + "/master.key"), wrapAlgorithm: algorithm)
    )
}

@Suite("LocalRootKeyService: wrap, rotate, delete")
struct LocalRootKeyServiceTests {
    static let aad = Array("tenant-1/6b3a1f0e-uid".utf8)

    @Test("wrap and unwrap round trip", arguments: [LocalRootKeyService.WrapAlgorithm.aes256GCM, .aes256KWP])
    func roundTrip(algorithm: LocalRootKeyService.WrapAlgorithm) async throws {
        try await withTemporaryDirectory { directory in
            let service = try await openService(directory, algorithm: algorithm)
            #expect(service.providerName == "local")
            let handle = try await service.createRootKey(label: "tenant-1")
            #expect(handle.version == 1)
            let dataKey = try KeyGenerator.randomBytes(count: 32)
            let wrapped = try await service.wrap(dataKey, rootKeyID: handle.keyID, aad: Self.aad)
            #expect(wrapped.rootKeyVersion == 1)
            #expect(wrapped.ciphertext[0] == algorithm.rawValue)
            #expect(wrapped.ciphertext[1...4].elementsEqual([0, 0, 0, 1]))
            // Header 5 + GCM box (version 1, nonce 12, tag 16) or RFC 5649 (+8) around 32 bytes.
            let expectedLength: Int = algorithm == .aes256GCM ? 66 : 45
            #expect(wrapped.ciphertext.count == expectedLength)
            #expect(!contains(wrapped.ciphertext, dataKey.copyBytes()))
            let result = try await service.unwrap(wrapped, rootKeyID: handle.keyID, aad: Self.aad)
            #expect(result.plaintext.constantTimeEquals(dataKey))
            #expect(result.rewrapped == nil)
        }
    }

    @Test(
        "a different AAD or root key fails authentication",
        arguments: [LocalRootKeyService.WrapAlgorithm.aes256GCM, .aes256KWP]
    )
    func aadMismatch(algorithm: LocalRootKeyService.WrapAlgorithm) async throws {
        try await withTemporaryDirectory { directory in
            let service = try await openService(directory, algorithm: algorithm)
            let key = try await service.createRootKey(label: "a").keyID
            let other = try await service.createRootKey(label: "b").keyID
            let wrapped = try await service.wrap(try KeyGenerator.randomBytes(count: 32), rootKeyID: key, aad: Self.aad)
            for aad in [Array("tenant-2/6b3a1f0e-uid".utf8), [], Self.aad + [0]] {
                let error = await #expect(throws: RootKeyError.self) {
                    try await service.unwrap(wrapped, rootKeyID: key, aad: aad)
                }
                #expect(error?.code == .authenticationFailed)
            }
            let moved = await #expect(throws: RootKeyError.self) {
                try await service.unwrap(wrapped, rootKeyID: other, aad: Self.aad)
            }
            #expect(moved?.code == .authenticationFailed)
        }
    }

    @Test(
        "a tampered ciphertext fails authentication",
        arguments: [LocalRootKeyService.WrapAlgorithm.aes256GCM, .aes256KWP]
    )
    func tampering(algorithm: LocalRootKeyService.WrapAlgorithm) async throws {
        try await withTemporaryDirectory { directory in
            let service = try await openService(directory, algorithm: algorithm)
            let key = try await service.createRootKey(label: "t").keyID
            let wrapped = try await service.wrap(try KeyGenerator.randomBytes(count: 32), rootKeyID: key, aad: Self.aad)
            for index in LocalWrapEnvelope.headerByteCount..<wrapped.ciphertext.count {
                var modified = wrapped
                modified.ciphertext[index] ^= 0x04
                let error = await #expect(throws: RootKeyError.self) {
                    try await service.unwrap(modified, rootKeyID: key, aad: Self.aad)
                }
                // The GCM box's own version byte is checked before decryption.
                let isBoxVersion = algorithm == .aes256GCM && index == LocalWrapEnvelope.headerByteCount
                #expect(error?.code == (isBoxVersion ? .invalidCiphertext : .authenticationFailed), "byte \(index)")
            }
        }
    }

    @Test("malformed ciphertexts and version mismatches are invalid")
    func malformed() async throws {
        try await withTemporaryDirectory { directory in
            let service = try await openService(directory)
            let key = try await service.createRootKey(label: "m").keyID
            let wrapped = try await service.wrap(SecretBytes([1, 2, 3]), rootKeyID: key, aad: Self.aad)
            let cases: [WrappedKey] = [
                WrappedKey(ciphertext: Array(wrapped.ciphertext.prefix(5)), rootKeyVersion: 1),
                WrappedKey(ciphertext: [9] + wrapped.ciphertext.dropFirst(), rootKeyVersion: 1),
                WrappedKey(ciphertext: wrapped.ciphertext, rootKeyVersion: 2),
                WrappedKey(ciphertext: [1, 0, 0, 0, 7] + wrapped.ciphertext.dropFirst(5), rootKeyVersion: 7),
            ]
            for wrapped in cases {
                let error = await #expect(throws: RootKeyError.self) {
                    try await service.unwrap(wrapped, rootKeyID: key, aad: Self.aad)
                }
                #expect(error?.code == .invalidCiphertext)
            }
            let empty = await #expect(throws: RootKeyError.self) {
                try await service.wrap(SecretBytes([]), rootKeyID: key, aad: Self.aad)
            }
            #expect(empty?.code == .invalidArgument)
        }
    }

    @Test("unknown ids are not found")
    func notFound() async throws {
        try await withTemporaryDirectory { directory in
            let service = try await openService(directory)
            let wrap = await #expect(throws: RootKeyError.self) {
                try await service.wrap(SecretBytes([1]), rootKeyID: "nope", aad: [])
            }
            #expect(wrap?.code == .notFound)
            let state = await #expect(throws: RootKeyError.self) { try await service.state(rootKeyID: "nope") }
            #expect(state?.code == .notFound)
            let rotate = await #expect(throws: RootKeyError.self) { try await service.rotate(rootKeyID: "nope") }
            #expect(rotate?.code == .notFound)
            let delete = await #expect(throws: RootKeyError.self) { try await service.delete(rootKeyID: "nope") }
            #expect(delete?.code == .notFound)
        }
    }

    @Test("rotation: old ciphertexts unwrap, new wraps use v2, rewrap moves to v2")
    func rotation() async throws {
        try await withTemporaryDirectory { directory in
            let service = try await openService(directory)
            let key = try await service.createRootKey(label: "r").keyID
            let dataKey = try KeyGenerator.randomBytes(count: 32)
            let v1 = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)

            let handle = try await service.rotate(rootKeyID: key)
            #expect(handle == RootKeyHandle(keyID: key, version: 2))
            #expect(try service.info(rootKeyID: key).currentVersion == 2)

            #expect(try await service.unwrap(v1, rootKeyID: key, aad: Self.aad).plaintext.constantTimeEquals(dataKey))
            let v2 = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
            #expect(v2.rootKeyVersion == 2)
            #expect(v2.ciphertext[1...4].elementsEqual([0, 0, 0, 2]))

            let rewrapped = try await service.rewrap(v1, rootKeyID: key, aad: Self.aad)
            #expect(rewrapped.rootKeyVersion == 2)
            #expect(rewrapped.ciphertext != v1.ciphertext)
            #expect(
                try await service.unwrap(rewrapped, rootKeyID: key, aad: Self.aad).plaintext.constantTimeEquals(dataKey)
            )
            #expect(try await service.rewrap(v2, rootKeyID: key, aad: Self.aad) == v2, "already current")

            let badAAD = await #expect(throws: RootKeyError.self) {
                try await service.rewrap(v1, rootKeyID: key, aad: [])
            }
            #expect(badAAD?.code == .authenticationFailed)

            // A ciphertext relabelled as version 2 does not authenticate under version 2.
            var relabelled = v1
            relabelled.ciphertext[4] = 2
            relabelled.rootKeyVersion = 2
            let relabel = await #expect(throws: RootKeyError.self) {
                try await service.unwrap(relabelled, rootKeyID: key, aad: Self.aad)
            }
            #expect(relabel?.code == .authenticationFailed)
        }
    }

    @Test("rewrap converts GCM ciphertexts to KWP after the algorithm changes")
    func rewrapAcrossAlgorithms() async throws {
        try await withTemporaryDirectory { directory in
            let gcm = try await openService(directory, algorithm: .aes256GCM)
            let key = try await gcm.createRootKey(label: "x").keyID
            let dataKey = try KeyGenerator.randomBytes(count: 32)
            let old = try await gcm.wrap(dataKey, rootKeyID: key, aad: Self.aad)

            let kwp = try await openService(directory, algorithm: .aes256KWP)
            #expect(try await kwp.unwrap(old, rootKeyID: key, aad: Self.aad).plaintext.constantTimeEquals(dataKey))
            let converted = try await kwp.rewrap(old, rootKeyID: key, aad: Self.aad)
            #expect(converted.ciphertext[0] == LocalRootKeyService.WrapAlgorithm.aes256KWP.rawValue)
            #expect(converted.rootKeyVersion == 1)
            #expect(
                try await kwp.unwrap(converted, rootKeyID: key, aad: Self.aad).plaintext.constantTimeEquals(dataKey)
            )
        }
    }

    @Test("disable blocks wrap, unwrap and rotate until enable")
    func disable() async throws {
        try await withTemporaryDirectory { directory in
            let service = try await openService(directory)
            let key = try await service.createRootKey(label: "d").keyID
            let dataKey = try KeyGenerator.randomBytes(count: 32)
            let wrapped = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)

            try await service.disable(rootKeyID: key)
            #expect(try await service.state(rootKeyID: key) == .disabled)
            let unwrap = await #expect(throws: RootKeyError.self) {
                try await service.unwrap(wrapped, rootKeyID: key, aad: Self.aad)
            }
            #expect(unwrap?.code == .disabled)
            let wrap = await #expect(throws: RootKeyError.self) {
                try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
            }
            #expect(wrap?.code == .disabled)
            let rotate = await #expect(throws: RootKeyError.self) { try await service.rotate(rootKeyID: key) }
            #expect(rotate?.code == .disabled)

            // The state survives a restart.
            #expect(try await openService(directory).state(rootKeyID: key) == .disabled)

            try await service.enable(rootKeyID: key)
            #expect(try await service.state(rootKeyID: key) == .active)
            #expect(
                try await service.unwrap(wrapped, rootKeyID: key, aad: Self.aad).plaintext.constantTimeEquals(dataKey)
            )
        }
    }

    @Test("concurrent wraps and rotations: every ciphertext unwraps, every version persists")
    func concurrency() async throws {
        try await withTemporaryDirectory { directory in
            let service = try await openService(directory)
            let key = try await service.createRootKey(label: "c").keyID
            let dataKey = try KeyGenerator.randomBytes(count: 32)
            let wrapped = try await withThrowingTaskGroup(of: WrappedKey?.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        if index % 40 == 0 {
                            _ = try await service.rotate(rootKeyID: key)
                            return nil
                        }
                        return try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
                    }
                }
                var all: [WrappedKey] = []
                for try await item in group { if let item { all.append(item) } }
                return all
            }
            #expect(wrapped.count == 195)
            let reopened = try await openService(directory)
            #expect(try reopened.info(rootKeyID: key).currentVersion == 6)
            for item in wrapped {
                #expect(
                    try await reopened.unwrap(item, rootKeyID: key, aad: Self.aad).plaintext.constantTimeEquals(dataKey)
                )
            }
        }
    }
}
