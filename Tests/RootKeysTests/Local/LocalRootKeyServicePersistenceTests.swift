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

@Suite("LocalRootKeyService: sealed file, master key, crypto-shred")
struct LocalRootKeyServicePersistenceTests {
    static let aad = Array("tenant-1/uid-1".utf8)

    /// The decrypted contents of `rootkeys.sealed` and the root keys in it.
    static func sealedContents(
        _ directory: String,
        masterKey: SecretBytes
    ) throws -> (plaintext: [UInt8], keys: [String: LocalRootKey]) {
        let plaintext = try LocalSealedKeyFile.openPlaintext(
            try readBytes(directory + "/rootkeys.sealed"),
            masterKey: masterKey
        )
        return (plaintext.copyBytes(), try LocalRootKeySetCodec.decode(plaintext))
    }

    static func masterKey(_ directory: String) throws -> SecretBytes {
        try LocalMasterKey.decode(try readBytes(directory + "/master.key"), source: "test")
    }

    @Test("the first start creates master.key (0600, hex) and rootkeys.sealed (0600)")
    func firstStart() async throws {
        try await withTemporaryDirectory { parent in
            let directory = parent + "/data/nested"
            _ = try await openService(directory)
            #expect(try permissions(directory + "/master.key") == 0o600)
            #expect(try permissions(directory + "/rootkeys.sealed") == 0o600)
            #expect(try permissions(directory) == 0o700)
            let text = try readBytes(directory + "/master.key")
            #expect(text.count == 65 && text.last == UInt8(ascii: "\n"))
            #expect(try Self.masterKey(directory).count == 32)
            let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
            // The first set is written under the lock every later change takes.
            #expect(files == ["master.key", "rootkeys.lock", "rootkeys.sealed"], "no temporary files left")
        }
    }

    @Test("the default source uses master.key in the data directory when KEYSTORM_MASTER_KEY is unset")
    func defaultSource() async throws {
        try await withTemporaryDirectory { directory in
            try #require(LocalMasterKey.fromEnvironment() == nil, "the test process must not set KEYSTORM_MASTER_KEY")
            let service = try await LocalRootKeyService.open(.init(dataDirectory: directory))
            _ = try await service.createRootKey(label: "x")
            #expect(try permissions(directory + "/master.key") == 0o600)
            #expect(try Self.sealedContents(directory, masterKey: try Self.masterKey(directory)).keys.count == 1)
        }
    }

    @Test("the sealed file survives a restart: a new instance unwraps")
    func restart() async throws {
        try await withTemporaryDirectory { directory in
            let dataKey = try KeyGenerator.randomBytes(count: 32)
            let (id, wrapped) = try await {
                let service = try await openService(directory)
                let id = try await service.createRootKey(label: "tenant one").keyID
                _ = try await service.rotate(rootKeyID: id)
                return (id, try await service.wrap(dataKey, rootKeyID: id, aad: Self.aad))
            }()
            let reopened = try await openService(directory)
            #expect(
                try await reopened.unwrap(wrapped, rootKeyID: id, aad: Self.aad).plaintext.constantTimeEquals(dataKey)
            )
            #expect(
                try reopened.info(rootKeyID: id)
                    == RootKeyInfo(keyID: id, label: "tenant one", state: .active, currentVersion: 2)
            )
            #expect(reopened.allRootKeys().map(\.keyID) == [id])
        }
    }

    @Test("delete shreds: unwrap fails with deleted, and the material is gone from the sealed file")
    func delete() async throws {
        try await withTemporaryDirectory { directory in
            let service = try await openService(directory)
            let id = try await service.createRootKey(label: "shred me").keyID
            let survivor = try await service.createRootKey(label: "keep me").keyID
            _ = try await service.rotate(rootKeyID: id)
            let dataKey = try KeyGenerator.randomBytes(count: 32)
            let wrapped = try await service.wrap(dataKey, rootKeyID: id, aad: Self.aad)
            let kept = try await service.wrap(dataKey, rootKeyID: survivor, aad: Self.aad)

            let masterKey = try Self.masterKey(directory)
            let before = try Self.sealedContents(directory, masterKey: masterKey)
            let material = try #require(before.keys[id]).versions.values.map { $0.copyBytes() }
            #expect(material.count == 2)
            for version in material { #expect(contains(before.plaintext, version)) }

            try await service.delete(rootKeyID: id)
            try await service.delete(rootKeyID: id)  // idempotent
            #expect(try await service.state(rootKeyID: id) == .deleted)
            for attempt in 0..<3 {
                let error = await #expect(throws: RootKeyError.self) {
                    switch attempt {
                    case 0: _ = try await service.unwrap(wrapped, rootKeyID: id, aad: Self.aad)
                    case 1: _ = try await service.wrap(dataKey, rootKeyID: id, aad: Self.aad)
                    default: _ = try await service.rotate(rootKeyID: id)
                    }
                }
                #expect(error?.code == .deleted)
            }
            let enable = await #expect(throws: RootKeyError.self) { try await service.enable(rootKeyID: id) }
            #expect(enable?.code == .deleted)

            // Reopen: still deleted, the other key still works, and no version's bytes remain.
            let reopened = try await openService(directory)
            #expect(try await reopened.state(rootKeyID: id) == .deleted)
            let error = await #expect(throws: RootKeyError.self) {
                try await reopened.unwrap(wrapped, rootKeyID: id, aad: Self.aad)
            }
            #expect(error?.code == .deleted)
            #expect(
                try await reopened.unwrap(kept, rootKeyID: survivor, aad: Self.aad).plaintext.constantTimeEquals(
                    dataKey
                )
            )

            let after = try Self.sealedContents(directory, masterKey: masterKey)
            let record = try #require(after.keys[id])
            #expect(record.state == .deleted)
            #expect(record.versions.isEmpty)
            #expect(record.label == "shred me")
            for version in material { #expect(!contains(after.plaintext, version)) }
        }
    }

    @Test("neither the master key nor root-key material appears in the sealed file")
    func nothingInTheClear() async throws {
        try await withTemporaryDirectory { directory in
            let (text, masterKey) = try randomMasterKeyHex()
            let service = try await LocalRootKeyService.open(.init(dataDirectory: directory, masterKey: .encoded(text)))
            let id = try await service.createRootKey(label: "clear?").keyID
            _ = try await service.rotate(rootKeyID: id)

            let file = try readBytes(directory + "/rootkeys.sealed")
            #expect(!contains(file, masterKey))
            #expect(!contains(file, Array(text.utf8)))
            #expect(!contains(file, Array(Data(masterKey).base64EncodedString().utf8)))
            #expect(!contains(file, Array("clear?".utf8)), "labels are sealed too")
            let contents = try Self.sealedContents(directory, masterKey: SecretBytes(masterKey))
            for version in try #require(contents.keys[id]).versions.values {
                #expect(!contains(file, version.copyBytes()))
            }
            #expect(!FileManager.default.fileExists(atPath: directory + "/master.key"), "an encoded key writes no file")
        }
    }

    @Test("a wrong master key is a clear error")
    func wrongMasterKey() async throws {
        try await withTemporaryDirectory { directory in
            let first = try randomMasterKeyHex().text
            _ = try await LocalRootKeyService.open(.init(dataDirectory: directory, masterKey: .encoded(first)))
                .createRootKey(label: "k")
            let second = try randomMasterKeyHex().text
            let error = await #expect(throws: RootKeyError.self) {
                try await LocalRootKeyService.open(.init(dataDirectory: directory, masterKey: .encoded(second)))
            }
            #expect(error?.code == .wrongMasterKey)
            #expect(error?.reason.contains("does not open with this master key") == true)
            #expect(error?.reason.contains(second) == false)
        }
    }

    @Test("the same master key opens the file whether given as hex or base64")
    func hexAndBase64() async throws {
        try await withTemporaryDirectory { directory in
            let (text, bytes) = try randomMasterKeyHex()
            let id = try await LocalRootKeyService.open(
                .init(dataDirectory: directory, masterKey: .encoded(text.uppercased()))
            )
            .createRootKey(label: "k").keyID
            let base64 = Data(bytes).base64EncodedString()
            let reopened = try await LocalRootKeyService.open(
                .init(dataDirectory: directory, masterKey: .encoded(" \(base64)\n"))
            )
            #expect(try await reopened.state(rootKeyID: id) == .active)
        }
    }

    @Test(
        "malformed master keys are refused without echoing them",
        arguments: ["abc", "zz" + String(repeating: "0", count: 62), String(repeating: "ab", count: 31), "c2hvcnQ="]
    )
    func malformedMasterKey(text: String) async throws {
        try await withTemporaryDirectory { directory in
            let error = await #expect(throws: RootKeyError.self) {
                try await LocalRootKeyService.open(.init(dataDirectory: directory, masterKey: .encoded(text)))
            }
            #expect(error?.code == .invalidMasterKey)
            #expect(error?.reason.contains(text) == false)
            #expect("\(LocalRootKeyService.MasterKeySource.encoded(text))" == "encoded(<redacted>)")
        }
    }

    @Test("a master key file readable by others is refused", arguments: [0o644, 0o640, 0o604, 0o700])
    func insecureMasterKeyFile(mode: Int) async throws {
        try await withTemporaryDirectory { directory in
            _ = try await openService(directory)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: directory + "/master.key")
            let error = await #expect(throws: RootKeyError.self) { try await openService(directory) }
            #expect(error?.code == .insecurePermissions)
            #expect(error?.reason.contains("0\(String(mode, radix: 8))") == true)
            #expect(error?.reason.contains("master.key") == true)

            try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: directory + "/master.key")
            _ = try await openService(directory)
        }
    }

    @Test("a missing master.key next to an existing sealed file is refused, not replaced")
    func missingMasterKey() async throws {
        try await withTemporaryDirectory { directory in
            _ = try await openService(directory).createRootKey(label: "k")
            try FileManager.default.removeItem(atPath: directory + "/master.key")
            let error = await #expect(throws: RootKeyError.self) { try await openService(directory) }
            #expect(error?.code == .invalidMasterKey)
            #expect(!FileManager.default.fileExists(atPath: directory + "/master.key"))
        }
    }

    @Test("a modified or foreign sealed file is refused")
    func corruptSealedFile() async throws {
        try await withTemporaryDirectory { directory in
            _ = try await openService(directory).createRootKey(label: "k")
            let path = directory + "/rootkeys.sealed"
            let original = try readBytes(path)

            var flipped = original
            flipped[flipped.count - 20] ^= 0x01
            try Data(flipped).write(to: URL(fileURLWithPath: path))
            let modified = await #expect(throws: RootKeyError.self) { try await openService(directory) }
            #expect(modified?.code == .wrongMasterKey)

            try Data("{\"keys\": []}".utf8).write(to: URL(fileURLWithPath: path))
            let foreign = await #expect(throws: RootKeyError.self) { try await openService(directory) }
            #expect(foreign?.code == .corruptKeyFile)

            try Data(original).write(to: URL(fileURLWithPath: path))
            _ = try await openService(directory)
        }
    }

    @Test("the key-set codec round trips and rejects truncation")
    func codec() throws {
        let keys = [
            "a": LocalRootKey(
                id: "a",
                label: "ünïcode label",
                state: .disabled,
                currentVersion: 2,
                versions: [
                    1: SecretBytes([UInt8](repeating: 1, count: 32)), 2: SecretBytes([UInt8](repeating: 2, count: 32)),
                ]
            ),
            "b": LocalRootKey(id: "b", label: "", state: .deleted, currentVersion: 3, versions: [:]),
        ]
        let encoded = LocalRootKeySetCodec.encode(keys)
        let decoded = try LocalRootKeySetCodec.decode(encoded)
        #expect(decoded.count == 2)
        #expect(decoded["a"]?.label == "ünïcode label")
        #expect(decoded["a"]?.state == .disabled)
        #expect(decoded["a"]?.versions[2]?.copyBytes() == [UInt8](repeating: 2, count: 32))
        #expect(decoded["b"]?.state == .deleted && decoded["b"]?.currentVersion == 3)

        let bytes = encoded.copyBytes()
        for length in [0, 4, 9, bytes.count - 1] {
            let error = #expect(throws: RootKeyError.self) {
                try LocalRootKeySetCodec.decode(SecretBytes(bytes.prefix(length)))
            }
            #expect(error?.code == .corruptKeyFile)
        }
        let trailing = #expect(throws: RootKeyError.self) { try LocalRootKeySetCodec.decode(SecretBytes(bytes + [0])) }
        #expect(trailing?.code == .corruptKeyFile)
    }
}
