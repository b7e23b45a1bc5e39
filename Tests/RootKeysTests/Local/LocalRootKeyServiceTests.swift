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

import Synchronization
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

/// What only the Local provider does: its ciphertext format, tampering and malformed input,
/// algorithm changes and concurrency. The behaviour every provider shares is in
/// ``RootKeyServiceContractTests``.
@Suite("LocalRootKeyService: format, tampering, algorithms")
struct LocalRootKeyServiceTests {
    static let aad = Array("tenant-1/6b3a1f0e-uid".utf8)

    @Test(
        "the ciphertext names the algorithm and the version",
        arguments: [LocalRootKeyService.WrapAlgorithm.aes256GCM, .aes256KWP]
    )
    func format(algorithm: LocalRootKeyService.WrapAlgorithm) async throws {
        try await withTemporaryDirectory { directory in
            let service = try await openService(directory, algorithm: algorithm)
            let key = try await service.createRootKey(label: "tenant-1").keyID
            let dataKey = try KeyGenerator.randomBytes(count: 32)
            let wrapped = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
            #expect(wrapped.ciphertext[0] == algorithm.rawValue)
            #expect(wrapped.ciphertext[1...4].elementsEqual([0, 0, 0, 1]))
            // Header 5 + GCM box (version 1, nonce 12, tag 16) or RFC 5649 (+8) around 32 bytes.
            let expectedLength: Int = algorithm == .aes256GCM ? 66 : 45
            #expect(wrapped.ciphertext.count == expectedLength)

            _ = try await service.rotate(rootKeyID: key)
            let v2 = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
            #expect(v2.ciphertext[0] == algorithm.rawValue)
            #expect(v2.ciphertext[1...4].elementsEqual([0, 0, 0, 2]))
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

    @Test("a ciphertext relabelled as another version does not authenticate")
    func relabelled() async throws {
        try await withTemporaryDirectory { directory in
            let service = try await openService(directory)
            let key = try await service.createRootKey(label: "r").keyID
            let v1 = try await service.wrap(try KeyGenerator.randomBytes(count: 32), rootKeyID: key, aad: Self.aad)
            _ = try await service.rotate(rootKeyID: key)

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

    /// Changes run concurrently in one process are all in force once they return: a deletion is
    /// never undone in memory by a concurrent rotation that published after it.
    @Test("concurrent rotations and deletions all take effect in memory")
    func concurrentChangesPublishInOrder() async throws {
        try await withTemporaryDirectory { directory in
            // Storage whose answers come back late and in any order, as a shared store's do.
            let service = try await LocalRootKeyService.open(
                .init(
                    dataDirectory: directory,
                    masterKey: .file(directory + "/master.key"),
                    sealedStorage: SlowSealedStorage()
                )
            )
            for _ in 0..<10 {
                let rotating = try await service.createRootKey(label: "rotating").keyID
                let victims = [
                    try await service.createRootKey(label: "a").keyID,
                    try await service.createRootKey(label: "b").keyID,
                ]
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 { group.addTask { _ = try await service.rotate(rootKeyID: rotating) } }
                    for victim in victims { group.addTask { try await service.delete(rootKeyID: victim) } }
                    try await group.waitForAll()
                }
                for victim in victims {
                    #expect(try await service.state(rootKeyID: victim) == .deleted)
                }
                #expect(try service.info(rootKeyID: rotating).currentVersion == 5)
            }
        }
    }
}

/// Sealed root keys in memory; each change is stored under a lock (one at a time, as every
/// storage does), and its caller hears back after a random delay of up to 5 ms.
final class SlowSealedStorage: LocalSealedKeyStorage {
    private let value = Mutex<[UInt8]?>(nil)
    var location: String { "memory" }

    func read() async throws -> [UInt8]? { self.value.withLock { $0 } }

    func update<Result: Sendable>(
        _ change: @escaping @Sendable ([UInt8]?) throws -> (sealed: [UInt8], result: Result)
    ) async throws -> Result {
        let result = try self.value.withLock { value in
            let (sealed, result) = try change(value)
            value = sealed
            return result
        }
        try await Task.sleep(for: .microseconds(Int.random(in: 0...5_000)))
        return result
    }
}
