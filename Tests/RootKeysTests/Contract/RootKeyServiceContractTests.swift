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

/// One root-key provider the contract runs against, and how to open it.
struct ProviderUnderTest: Sendable, CustomTestStringConvertible {
    enum Kind: Sendable {
        case local(LocalRootKeyService.WrapAlgorithm)
        case keyProtect
        case pkcs11
    }

    let kind: Kind

    var testDescription: String {
        switch self.kind {
        case .local(let algorithm): "Local (\(algorithm == .aes256GCM ? "AES-256-GCM" : "AES-256-KWP"))"
        case .keyProtect: "Key Protect emulator"
        case .pkcs11: "PKCS#11 SoftHSM2"
        }
    }

    /// Every provider: Local with each wrap algorithm, the Key Protect emulator, and SoftHSM2
    /// when it is installed.
    static let all: [ProviderUnderTest] =
        [.init(kind: .local(.aes256GCM)), .init(kind: .local(.aes256KWP)), .init(kind: .keyProtect)]
        + (SoftHSMToken.unavailableReason == nil ? [.init(kind: .pkcs11)] : [])

    /// The providers that can disable and enable a root key (PKCS#11 cannot).
    static var disabling: [ProviderUnderTest] {
        Self.all.filter { if case .pkcs11 = $0.kind { false } else { true } }
    }

    /// The name the provider reports.
    var providerName: String {
        switch self.kind {
        case .local: "local"
        case .keyProtect: "keyprotect"
        case .pkcs11: "pkcs11"
        }
    }

    /// Whether a rewrap of a ciphertext that is already under the current version returns it
    /// unchanged; Key Protect rewraps it again.
    var rewrapKeepsCurrentCiphertext: Bool {
        if case .keyProtect = self.kind { false } else { true }
    }

    /// Runs `body` with a fresh service of this provider and a way to open a second instance
    /// over the same keys (a restart, another process, another node).
    func withService(
        _ body: (any RootKeyService, ProviderControls) async throws -> Void
    ) async throws {
        switch self.kind {
        case .local(let algorithm):
            try await withTemporaryDirectory { directory in
                let service = try await openService(directory, algorithm: algorithm)
                let controls = ProviderControls(
                    disable: { try await service.disable(rootKeyID: $0) },
                    enable: { try await service.enable(rootKeyID: $0) },
                    reopen: { inner in try await inner(try await openService(directory, algorithm: algorithm)) }
                )
                try await body(service, controls)
            }
        case .keyProtect:
            try await KeyProtectEmulatorProcess.withRootKeyService { service, emulator in
                let controls = ProviderControls(
                    disable: { try await service.disable(rootKeyID: $0) },
                    enable: { try await service.enable(rootKeyID: $0) },
                    reopen: { body in
                        let other = try emulator.rootKeyService()
                        do {
                            try await body(other)
                            try await other.shutdown()
                        } catch {
                            try? await other.shutdown()
                            throw error
                        }
                    }
                )
                try await body(service, controls)
            }
        case .pkcs11:
            let token = try SoftHSMToken.shared.get()
            let service = try await PKCS11RootKeyService.open(token.configuration(sessions: 4))
            let controls = ProviderControls(
                disable: nil,
                enable: nil,
                reopen: { body in try await body(try await PKCS11RootKeyService.open(token.configuration(sessions: 1)))
                }
            )
            try await body(service, controls)
        }
    }
}

/// What the contract does beyond ``RootKeyService``: disable and enable where the provider can,
/// and a second instance over the same keys.
struct ProviderControls: Sendable {
    var disable: (@Sendable (String) async throws -> Void)?
    var enable: (@Sendable (String) async throws -> Void)?
    /// Runs its argument with a second instance of the provider over the same keys.
    var reopen: @Sendable ((any RootKeyService) async throws -> Void) async throws -> Void
}

/// The behaviour every root-key provider shares, run against each one: Local (both wrap
/// algorithms), Key Protect (the emulator over HTTP) and PKCS#11 (SoftHSM2). Serialized: SoftHSM2
/// and the emulators are shared resources; each provider's own suite keeps what only it does
/// (ciphertext formats, retries, PINs, files).
@Suite("RootKeyService contract, against every provider", .serialized)
struct RootKeyServiceContractTests {
    static let aad = Array("tenant-1/6b3a1f0e-uid".utf8)
    static let unknown = "00000000-0000-4000-8000-000000000000"

    /// Expects `body` to throw a ``RootKeyError`` with `code`.
    static func expectError(
        _ code: RootKeyError.Code,
        _ comment: Comment? = nil,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async {
        let error = await #expect(throws: RootKeyError.self, comment, sourceLocation: sourceLocation) {
            try await body()
        }
        #expect(error?.code == code, comment, sourceLocation: sourceLocation)
    }

    @Test("create, wrap and unwrap round trip", arguments: ProviderUnderTest.all)
    func roundTrip(provider: ProviderUnderTest) async throws {
        try await provider.withService { service, _ in
            #expect(service.providerName == provider.providerName)
            let handle = try await service.createRootKey(label: "tenant-1")
            #expect(handle.version == 1)
            let dataKey = try KeyGenerator.randomBytes(count: 32)
            let wrapped = try await service.wrap(dataKey, rootKeyID: handle.keyID, aad: Self.aad)
            #expect(wrapped.rootKeyVersion == 1)
            #expect(!contains(wrapped.ciphertext, dataKey.copyBytes()))
            let result = try await service.unwrap(wrapped, rootKeyID: handle.keyID, aad: Self.aad)
            #expect(result.plaintext.constantTimeEquals(dataKey))
            #expect(result.rewrapped == nil)
            let info = try await service.info(rootKeyID: handle.keyID)
            #expect(info == RootKeyInfo(keyID: handle.keyID, label: "tenant-1", state: .active, currentVersion: 1))
        }
    }

    @Test(
        "a wrapped key is bound to its AAD and its root key; any AAD, long or empty, binds",
        arguments: ProviderUnderTest.all
    )
    func aadBinding(provider: ProviderUnderTest) async throws {
        try await provider.withService { service, _ in
            let key = try await service.createRootKey(label: "a").keyID
            let other = try await service.createRootKey(label: "b").keyID
            let wrapped = try await service.wrap(try KeyGenerator.randomBytes(count: 32), rootKeyID: key, aad: Self.aad)
            for aad in [Array("tenant-2/6b3a1f0e-uid".utf8), [], Self.aad + [0]] {
                await Self.expectError(.authenticationFailed) {
                    _ = try await service.unwrap(wrapped, rootKeyID: key, aad: aad)
                }
            }
            await Self.expectError(.authenticationFailed, "another root key") {
                _ = try await service.unwrap(wrapped, rootKeyID: other, aad: Self.aad)
            }
            // AAD longer than one Key Protect element, and none at all.
            let long = (0..<2000).map { UInt8(truncatingIfNeeded: $0) }
            for aad in [long, []] {
                let dataKey = try KeyGenerator.randomBytes(count: 32)
                let bound = try await service.wrap(dataKey, rootKeyID: key, aad: aad)
                #expect(try await service.unwrap(bound, rootKeyID: key, aad: aad).plaintext.constantTimeEquals(dataKey))
            }
        }
    }

    @Test("an unknown root key is not found, whatever the call", arguments: ProviderUnderTest.all)
    func notFound(provider: ProviderUnderTest) async throws {
        try await provider.withService { service, _ in
            let key = try await service.createRootKey(label: "known").keyID
            let wrapped = try await service.wrap(SecretBytes([1, 2, 3]), rootKeyID: key, aad: Self.aad)
            await Self.expectError(.notFound, "wrap") {
                _ = try await service.wrap(SecretBytes([1]), rootKeyID: Self.unknown, aad: [])
            }
            await Self.expectError(.notFound, "unwrap") {
                _ = try await service.unwrap(wrapped, rootKeyID: Self.unknown, aad: Self.aad)
            }
            await Self.expectError(.notFound, "info") { _ = try await service.info(rootKeyID: Self.unknown) }
            await Self.expectError(.notFound, "state") { _ = try await service.state(rootKeyID: Self.unknown) }
            await Self.expectError(.notFound, "rotate") { _ = try await service.rotate(rootKeyID: Self.unknown) }
            await Self.expectError(.notFound, "delete") { try await service.delete(rootKeyID: Self.unknown) }
        }
    }

    @Test("rotation: new wraps use v2, v1 still unwraps, rewrap moves to v2", arguments: ProviderUnderTest.all)
    func rotation(provider: ProviderUnderTest) async throws {
        try await provider.withService { service, _ in
            let key = try await service.createRootKey(label: "rotating").keyID
            let dataKey = try KeyGenerator.randomBytes(count: 32)
            let v1 = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
            #expect(v1.rootKeyVersion == 1)
            #expect(try await service.rotate(rootKeyID: key) == RootKeyHandle(keyID: key, version: 2))
            #expect(try await service.info(rootKeyID: key).currentVersion == 2)

            let v2 = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
            #expect(v2.rootKeyVersion == 2)
            #expect(try await service.unwrap(v1, rootKeyID: key, aad: Self.aad).plaintext.constantTimeEquals(dataKey))
            let current = try await service.unwrap(v2, rootKeyID: key, aad: Self.aad)
            #expect(current.plaintext.constantTimeEquals(dataKey))
            #expect(current.rewrapped == nil)

            let moved = try await service.rewrap(v1, rootKeyID: key, aad: Self.aad)
            #expect(moved.rootKeyVersion == 2)
            #expect(moved.ciphertext != v1.ciphertext)
            let unwrapped = try await service.unwrap(moved, rootKeyID: key, aad: Self.aad)
            #expect(unwrapped.plaintext.constantTimeEquals(dataKey))
            #expect(unwrapped.rewrapped == nil)
            if provider.rewrapKeepsCurrentCiphertext {
                #expect(try await service.rewrap(v2, rootKeyID: key, aad: Self.aad) == v2, "already current")
            }
            for aad: [UInt8] in [[], [1]] {
                await Self.expectError(.authenticationFailed, "rewrap with another AAD") {
                    _ = try await service.rewrap(v1, rootKeyID: key, aad: aad)
                }
            }

            #expect(try await service.rotate(rootKeyID: key).version == 3)
            #expect(try await service.unwrap(v1, rootKeyID: key, aad: Self.aad).plaintext.constantTimeEquals(dataKey))
        }
    }

    @Test(
        "a disabled root key wraps, unwraps and rotates nothing until enabled",
        arguments: ProviderUnderTest.disabling
    )
    func disable(provider: ProviderUnderTest) async throws {
        try await provider.withService { service, controls in
            let (disable, enable) = (try #require(controls.disable), try #require(controls.enable))
            let key = try await service.createRootKey(label: "disabled").keyID
            let dataKey = try KeyGenerator.randomBytes(count: 32)
            let wrapped = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)

            try await disable(key)
            #expect(try await service.state(rootKeyID: key) == .disabled)
            await Self.expectError(.disabled, "unwrap") {
                _ = try await service.unwrap(wrapped, rootKeyID: key, aad: Self.aad)
            }
            await Self.expectError(.disabled, "wrap") {
                _ = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
            }
            await Self.expectError(.disabled, "rotate") { _ = try await service.rotate(rootKeyID: key) }
            // A second instance sees the same state.
            try await controls.reopen { other in
                let state = try await other.state(rootKeyID: key)
                #expect(state == .disabled)
            }

            try await enable(key)
            #expect(try await service.state(rootKeyID: key) == .active)
            #expect(
                try await service.unwrap(wrapped, rootKeyID: key, aad: Self.aad).plaintext.constantTimeEquals(dataKey)
            )
        }
    }

    @Test("delete shreds every version: unwraps fail with deleted, on every instance", arguments: ProviderUnderTest.all)
    func deletion(provider: ProviderUnderTest) async throws {
        try await provider.withService { service, controls in
            let key = try await service.createRootKey(label: "doomed").keyID
            let dataKey = try KeyGenerator.randomBytes(count: 32)
            let v1 = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
            _ = try await service.rotate(rootKeyID: key)
            let v2 = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
            // Warm whatever the provider caches, then delete.
            _ = try await service.unwrap(v1, rootKeyID: key, aad: Self.aad)
            try await service.delete(rootKeyID: key)

            for wrapped in [v1, v2] {
                await Self.expectError(.deleted, "unwrap v\(wrapped.rootKeyVersion)") {
                    _ = try await service.unwrap(wrapped, rootKeyID: key, aad: Self.aad)
                }
            }
            await Self.expectError(.deleted, "wrap") {
                _ = try await service.wrap(dataKey, rootKeyID: key, aad: Self.aad)
            }
            await Self.expectError(.deleted, "rotate") { _ = try await service.rotate(rootKeyID: key) }
            let info = try await service.info(rootKeyID: key)
            #expect(info.keyID == key)
            #expect(info.label == "doomed")
            #expect(info.state == .deleted)
            if case .pkcs11 = provider.kind { #expect(info.currentVersion == 0, "no version is left in the token") }
            #expect(try await service.state(rootKeyID: key) == .deleted)
            try await service.delete(rootKeyID: key)  // again: nothing to do

            // A second instance (another process, say) sees the same.
            try await controls.reopen { other in
                let state = try await other.state(rootKeyID: key)
                #expect(state == .deleted)
                await Self.expectError(.deleted, "unwrap on a second instance") {
                    _ = try await other.unwrap(v1, rootKeyID: key, aad: Self.aad)
                }
            }
        }
    }
}
