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

/// What only the PKCS#11 provider does, against a real SoftHSM2 token: its ciphertext format, a
/// root key that never leaves the token, sessions, PINs and modules. The behaviour every provider
/// shares is in ``RootKeyServiceContractTests``. Serialized: SoftHSM2 reads its configuration
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

    @Test("the ciphertext names the format and the version, with a fresh IV for every wrap")
    func format() async throws {
        let service = try await self.openService()
        let key = try await service.createRootKey(label: "tenant-1").keyID
        let dataKey = try KeyGenerator.randomBytes(count: 32)
        let wrapped = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
        // Format 1, version 1, IV 12, ciphertext 32, tag 16.
        #expect(wrapped.ciphertext.count == 65)
        #expect(wrapped.ciphertext[0...4].elementsEqual([1, 0, 0, 0, 1]))
        let again = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
        #expect(again.ciphertext != wrapped.ciphertext, "a fresh IV for every wrap")

        _ = try await service.rotate(rootKeyID: key)
        let v2 = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
        #expect(v2.ciphertext[1...4].elementsEqual([0, 0, 0, 2]))
    }

    @Test("a modified byte fails authentication; a relabelled or truncated ciphertext is invalid")
    func tampering() async throws {
        let service = try await self.openService()
        let key = try await service.createRootKey(label: "a").keyID
        let wrapped = try await service.wrap(try KeyGenerator.randomBytes(count: 32), rootKeyID: key, aad: Self.aad)
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
