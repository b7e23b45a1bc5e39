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
import KeystormTestSupport
import Testing

@testable import RootKeys

/// The PKCS#11 provider against a real SoftHSM2 token. Serialized: SoftHSM2 reads its configuration
/// once per `C_Initialize`, and the reopen test needs the module finalised between two services.
@Suite(
    "PKCS11RootKeyService against SoftHSM2",
    .serialized,
    .enabled(if: SoftHSMToken.unavailableReason == nil, Comment(rawValue: SoftHSMToken.unavailableReason ?? ""))
)
struct PKCS11RootKeyServiceTests {
    static let aad = Array("tenant-1/6b3a1f0e-uid".utf8)

    let token: SoftHSMToken

    init() throws {
        self.token = try SoftHSMToken.shared.get()
    }

    func openService(sessions: Int = 4) async throws -> PKCS11RootKeyService {
        try await PKCS11RootKeyService.open(self.token.configuration(sessions: sessions))
    }

    @Test("wrap and unwrap round trip inside the token")
    func roundTrip() async throws {
        let service = try await self.openService()
        #expect(service.providerName == "pkcs11")
        let handle = try await service.createRootKey(label: "tenant-1")
        #expect(handle.version == 1)
        let dataKey = try KeyGenerator.randomBytes(count: 32)
        let wrapped = try await service.wrap(dataKey, rootKeyID: handle.keyID, aad: Self.aad)
        #expect(wrapped.rootKeyVersion == 1)
        // Format 1, version 1, IV 12, ciphertext 32, tag 16.
        #expect(wrapped.ciphertext.count == 65)
        #expect(wrapped.ciphertext[0...4].elementsEqual([1, 0, 0, 0, 1]))
        #expect(!contains(wrapped.ciphertext, dataKey.copyBytes()))
        let again = try await service.wrap(dataKey, rootKeyID: handle.keyID, aad: Self.aad)
        #expect(again.ciphertext != wrapped.ciphertext, "a fresh IV for every wrap")

        let result = try await service.unwrap(wrapped, rootKeyID: handle.keyID, aad: Self.aad)
        #expect(result.plaintext.constantTimeEquals(dataKey))
        #expect(result.rewrapped == nil)
        let info = try await service.info(rootKeyID: handle.keyID)
        #expect(info == RootKeyInfo(keyID: handle.keyID, label: "tenant-1", state: .active, currentVersion: 1))
    }

    @Test("a wrong AAD, another root key or a modified byte fails authentication")
    func aadBinding() async throws {
        let service = try await self.openService()
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
        for index in [6, 20, 40, 64] {
            var tampered = wrapped
            tampered.ciphertext[index] ^= 0x01
            let error = await #expect(throws: RootKeyError.self) {
                try await service.unwrap(tampered, rootKeyID: key, aad: Self.aad)
            }
            #expect(error?.code == .authenticationFailed, "byte \(index)")
        }
        var relabelled = wrapped
        relabelled.rootKeyVersion = 2
        let mismatch = await #expect(throws: RootKeyError.self) {
            try await service.unwrap(relabelled, rootKeyID: key, aad: Self.aad)
        }
        #expect(mismatch?.code == .invalidCiphertext)
        let short = await #expect(throws: RootKeyError.self) {
            try await service.unwrap(
                WrappedKey(ciphertext: [1, 0, 0, 0, 1], rootKeyVersion: 1),
                rootKeyID: key,
                aad: Self.aad
            )
        }
        #expect(short?.code == .invalidCiphertext)
    }

    @Test("the root key cannot be read out of the token")
    func rootKeyIsNotExtractable() async throws {
        let service = try await self.openService()
        let key = try await service.createRootKey(label: "sealed").keyID
        _ = try await service.rotate(rootKeyID: key)
        for version in [1, 2] {
            let inspection = try await service.inspectObject(rootKeyID: key, version: version)
            #expect(inspection.valueReadReturnValue == "CKR_ATTRIBUTE_SENSITIVE")
            #expect(inspection.valueLengthUnavailable)
            #expect(!inspection.valueBufferWritten)
            #expect(inspection.sensitive)
            #expect(!inspection.extractable)
            #expect(inspection.alwaysSensitive)
            #expect(inspection.neverExtractable)
            #expect(inspection.token)
        }
    }

    @Test("rotate: new wraps use v2, v1 still unwraps, rewrap moves to v2")
    func rotation() async throws {
        let service = try await self.openService()
        let key = try await service.createRootKey(label: "rotating").keyID
        let dataKey = try KeyGenerator.randomBytes(count: 32)
        let v1 = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
        #expect(try await service.rotate(rootKeyID: key) == RootKeyHandle(keyID: key, version: 2))
        #expect(try await service.info(rootKeyID: key).currentVersion == 2)

        let v2 = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
        #expect(v2.rootKeyVersion == 2)
        #expect(v2.ciphertext[1...4].elementsEqual([0, 0, 0, 2]))
        #expect(try await service.unwrap(v1, rootKeyID: key, aad: Self.aad).plaintext.constantTimeEquals(dataKey))
        #expect(try await service.unwrap(v2, rootKeyID: key, aad: Self.aad).plaintext.constantTimeEquals(dataKey))

        let moved = try await service.rewrap(v1, rootKeyID: key, aad: Self.aad)
        #expect(moved.rootKeyVersion == 2)
        #expect(try await service.unwrap(moved, rootKeyID: key, aad: Self.aad).plaintext.constantTimeEquals(dataKey))
        #expect(try await service.rewrap(v2, rootKeyID: key, aad: Self.aad) == v2)
        let wrongAAD = await #expect(throws: RootKeyError.self) {
            try await service.rewrap(v1, rootKeyID: key, aad: [])
        }
        #expect(wrongAAD?.code == .authenticationFailed)

        #expect(try await service.rotate(rootKeyID: key).version == 3)
        #expect(try await service.unwrap(v1, rootKeyID: key, aad: Self.aad).plaintext.constantTimeEquals(dataKey))
    }

    @Test("delete destroys every version: unwraps fail with deleted")
    func deletion() async throws {
        let service = try await self.openService()
        let key = try await service.createRootKey(label: "doomed").keyID
        let dataKey = try KeyGenerator.randomBytes(count: 32)
        let v1 = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
        _ = try await service.rotate(rootKeyID: key)
        let v2 = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
        // Warm the handle cache, then delete.
        _ = try await service.unwrap(v1, rootKeyID: key, aad: Self.aad)
        try await service.delete(rootKeyID: key)

        for wrapped in [v1, v2] {
            let error = await #expect(throws: RootKeyError.self) {
                try await service.unwrap(wrapped, rootKeyID: key, aad: Self.aad)
            }
            #expect(error?.code == .deleted)
        }
        let wrap = await #expect(throws: RootKeyError.self) {
            try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
        }
        #expect(wrap?.code == .deleted)
        let rotate = await #expect(throws: RootKeyError.self) { try await service.rotate(rootKeyID: key) }
        #expect(rotate?.code == .deleted)
        #expect(
            try await service.info(rootKeyID: key)
                == RootKeyInfo(keyID: key, label: "doomed", state: .deleted, currentVersion: 0)
        )
        #expect(try await service.state(rootKeyID: key) == .deleted)
        try await service.delete(rootKeyID: key)

        // A fresh service (another process, say) sees the same: the objects are gone from the token.
        let other = try await self.openService()
        let error = await #expect(throws: RootKeyError.self) {
            try await other.unwrap(v1, rootKeyID: key, aad: Self.aad)
        }
        #expect(error?.code == .deleted)

        let unknown = "00000000-0000-4000-8000-000000000000"
        let notFound = await #expect(throws: RootKeyError.self) {
            try await service.unwrap(v1, rootKeyID: unknown, aad: Self.aad)
        }
        #expect(notFound?.code == .notFound)
        let infoNotFound = await #expect(throws: RootKeyError.self) { try await service.info(rootKeyID: unknown) }
        #expect(infoNotFound?.code == .notFound)
        let deleteNotFound = await #expect(throws: RootKeyError.self) { try await service.delete(rootKeyID: unknown) }
        #expect(deleteNotFound?.code == .notFound)
    }

    @Test("200 concurrent unwraps over 4 sessions all succeed")
    func concurrentUnwraps() async throws {
        let service = try await self.openService(sessions: 4)
        let key = try await service.createRootKey(label: "storm").keyID
        var keys: [(SecretBytes, WrappedKey, [UInt8])] = []
        for index in 0..<20 {
            let aad = Array("tenant-1/uid-\(index)".utf8)
            let dataKey = try KeyGenerator.randomBytes(count: 32)
            keys.append((dataKey, try await service.wrap(dataKey, rootKeyID: key, aad: aad), aad))
        }
        let wrappedKeys = keys.map { ($0.1, $0.2) }
        let results = try await withThrowingTaskGroup(of: (Int, SecretBytes).self) { group in
            for request in 0..<200 {
                let (wrapped, aad) = wrappedKeys[request % wrappedKeys.count]
                group.addTask {
                    (request, try await service.unwrap(wrapped, rootKeyID: key, aad: aad).plaintext)
                }
            }
            var results: [Int: SecretBytes] = [:]
            for try await (request, plaintext) in group { results[request] = plaintext }
            return results
        }
        #expect(results.count == 200)
        for (request, plaintext) in results {
            #expect(plaintext.constantTimeEquals(keys[request % keys.count].0))
        }
    }

    @Test("a wrong PIN is refused with a clear error that does not show the PIN")
    func wrongPIN() async throws {
        // A token no other test logs in to, so the first login reaches C_Login.
        let label = SoftHSMToken.pinTestLabel
        let wrong = "0000-not-the-pin"
        let error = await #expect(throws: RootKeyError.self) {
            try await PKCS11RootKeyService.open(self.token.configuration(pin: wrong, tokenLabel: label))
        }
        #expect(error?.code == .unauthorized)
        #expect(error?.reason.contains("CKR_PIN_INCORRECT") == true, "\(String(describing: error))")
        #expect(error?.reason.contains(label) == true)
        #expect(error.map { !"\($0)".contains(wrong) } == true)
        // The token still opens with the right PIN afterwards.
        let service = try await PKCS11RootKeyService.open(self.token.configuration(tokenLabel: label))
        // While it is logged in, the token would accept any PIN (one login per application):
        // a second service with a wrong PIN is still refused.
        let second = await #expect(throws: RootKeyError.self) {
            try await PKCS11RootKeyService.open(self.token.configuration(pin: wrong, tokenLabel: label))
        }
        #expect(second?.code == .unauthorized)
        #expect(second.map { !"\($0)".contains(wrong) } == true)
        _ = try await service.createRootKey(label: "still-usable")
    }

    @Test("an unknown token label or module path is unavailable")
    func unknownTokenOrModule() async throws {
        var configuration = self.token.configuration()
        configuration.tokenLabel = "no-such-token"
        let token = await #expect(throws: RootKeyError.self) { try await PKCS11RootKeyService.open(configuration) }
        #expect(token?.code == .unavailable)
        #expect(token?.reason.contains("'\(SoftHSMToken.label)'") == true, "names the tokens present")

        configuration = self.token.configuration()
        configuration.modulePath = self.token.directory + "/no-such-module.so"
        let module = await #expect(throws: RootKeyError.self) { try await PKCS11RootKeyService.open(configuration) }
        #expect(module?.code == .unavailable)
    }

    @Test("the PIN comes from a 0600 file; a file others can read is refused")
    func pinFile() async throws {
        let path = self.token.directory + "/pin-\(UUID().uuidString)"
        try (SoftHSMToken.userPIN + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var configuration = self.token.configuration()
        configuration.pin = .file(path)
        #expect(!"\(configuration)".contains(SoftHSMToken.userPIN))

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let error = await #expect(throws: RootKeyError.self) { try await PKCS11RootKeyService.open(configuration) }
        #expect(error?.code == .insecurePermissions)

        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        let service = try await PKCS11RootKeyService.open(configuration)
        _ = try await service.createRootKey(label: "from-file")
    }

    @Test("keys persist in the token across a reopen of the module")
    func reopen() async throws {
        let dataKey = try KeyGenerator.randomBytes(count: 32)
        let (key, wrapped) = try await {
            let service = try await self.openService()
            let key = try await service.createRootKey(label: "persistent").keyID
            _ = try await service.rotate(rootKeyID: key)
            return (key, try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad))
        }()
        // The service above is gone: its sessions closed and the module was finalised.
        let service = try await self.openService(sessions: 1)
        #expect(try await service.unwrap(wrapped, rootKeyID: key, aad: Self.aad).plaintext.constantTimeEquals(dataKey))
        #expect(
            try await service.info(rootKeyID: key)
                == RootKeyInfo(keyID: key, label: "persistent", state: .active, currentVersion: 2)
        )
        #expect(try await service.allRootKeys().contains { $0.keyID == key && $0.label == "persistent" })
    }
}
