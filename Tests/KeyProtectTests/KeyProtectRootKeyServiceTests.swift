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
import RootKeys
import Testing

/// What only the Key Protect provider does, against the KeyProtectEmulator binary over real HTTP:
/// IAM tokens, retries on 429 and 5xx, outages, correlation ids, rewrap on unwrap, batching.
/// The behaviour every provider shares is in RootKeysTests' `RootKeyServiceContractTests`.
@Suite("Key Protect provider against the emulator")
struct KeyProtectRootKeyServiceTests {
    static let apiKey = KeyProtectEmulatorProcess.testAPIKey

    /// Runs `body` with an emulator and a provider pointed at it; shuts both down afterwards.
    static func withService<T>(
        _ options: KeyProtectEmulatorProcess.Options = .init(apiKeys: [Self.apiKey]),
        apiKey: String = Self.apiKey,
        retry: KeyProtectRetryPolicy = KeyProtectRetryPolicy(baseDelay: .milliseconds(50), maxDelay: .seconds(1)),
        _ body: (KeyProtectRootKeyService, KeyProtectEmulatorProcess) async throws -> T
    ) async throws -> T {
        try await KeyProtectEmulatorProcess.withRootKeyService(options, apiKey: apiKey, retry: retry, body)
    }

    static func service(
        _ emulator: KeyProtectEmulatorProcess,
        retry: KeyProtectRetryPolicy = KeyProtectRetryPolicy(baseDelay: .milliseconds(50), maxDelay: .seconds(1))
    ) throws -> KeyProtectRootKeyService {
        try emulator.rootKeyService(retry: retry)
    }

    static func dataKey(_ seed: UInt8 = 1) -> [UInt8] {
        (0..<32).map { UInt8(truncatingIfNeeded: Int($0) * 13 + Int(seed)) }
    }

    static let aad = Array("tenant-a/7f0c2a1e-key".utf8)

    @Test("An authentication failure names the correlation id; a garbled ciphertext fails")
    func authenticationErrors() async throws {
        try await Self.withService { service, _ in
            let rootKey = try await service.createRootKey(label: "aad").keyID
            let wrapped = try await service.wrap(SecretBytes(Self.dataKey()), rootKeyID: rootKey, aad: Self.aad)
            for other in [Array("tenant-b/7f0c2a1e-key".utf8), []] {
                let error = await #expect(throws: RootKeyError.self) {
                    _ = try await service.unwrap(wrapped, rootKeyID: rootKey, aad: other)
                }
                #expect(error?.code == .authenticationFailed)
                #expect(error?.reason.contains("correlation-id") == true)
            }
            // Garbled ciphertext.
            var garbled = wrapped
            garbled.ciphertext[garbled.ciphertext.count / 2] ^= 0x01
            let error = await #expect(throws: RootKeyError.self) {
                _ = try await service.unwrap(garbled, rootKeyID: rootKey, aad: Self.aad)
            }
            #expect(error?.code == .authenticationFailed || error?.code == .invalidCiphertext)
        }
    }

    @Test("Calls keep working while IAM tokens expire")
    func tokenRefresh() async throws {
        try await Self.withService(.init(apiKeys: [Self.apiKey], tokenTTL: 2)) { service, emulator in
            let rootKey = try await service.createRootKey(label: "tokens").keyID
            let wrapped = try await service.wrap(SecretBytes(Self.dataKey()), rootKeyID: rootKey, aad: Self.aad)
            // About three token lifetimes of calls.
            let clock = ContinuousClock()
            let end = clock.now + .seconds(6)
            var calls = 0
            while clock.now < end {
                let result = try await service.unwrap(wrapped, rootKeyID: rootKey, aad: Self.aad)
                #expect(result.plaintext.copyBytes() == Self.dataKey())
                calls += 1
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(calls > 3)
            #expect(service.statistics.tokenRefreshes >= 3)
            #expect(try await emulator.stats().calls("token") == service.statistics.tokenRefreshes)
        }
    }

    @Test("An API key IAM does not know gives a clear unauthorized error")
    func badAPIKey() async throws {
        let wrongKey = "wrong-key-5b7e1c"
        try await Self.withService(.init(apiKeys: [Self.apiKey]), apiKey: wrongKey) { service, _ in
            let error = await #expect(throws: RootKeyError.self) {
                _ = try await service.createRootKey(label: "never")
            }
            #expect(error?.code == .unauthorized)
            #expect(error?.reason.contains("BXNIM0415E") == true)
            #expect(error?.reason.contains(wrongKey) == false)
            #expect(service.statistics.retries == 0)
        }
    }

    @Test("A 429 storm: every call eventually succeeds and the retries are counted")
    func rateLimitStorm() async throws {
        try await Self.withService { service, emulator in
            let rootKey = try await service.createRootKey(label: "storm").keyID
            let wrapped = try await service.wrap(SecretBytes(Self.dataKey()), rootKeyID: rootKey, aad: Self.aad)
            try await emulator.setFaults(.init(rateLimit: 10, retryAfterSeconds: 1))
            try await emulator.resetStats()
            try await withThrowingTaskGroup(of: [UInt8].self) { group in
                for _ in 0..<30 {
                    group.addTask {
                        try await service.unwrap(wrapped, rootKeyID: rootKey, aad: Self.aad).plaintext.copyBytes()
                    }
                }
                for try await plaintext in group { #expect(plaintext == Self.dataKey()) }
            }
            let statistics = service.statistics
            let stats = try await emulator.stats()
            #expect(stats.status429 > 0)
            #expect(statistics.rateLimited == stats.status429)
            #expect(statistics.retries >= statistics.rateLimited)
            #expect(statistics.exhausted == 0)
        }
    }

    @Test("5xx answers are retried until the call succeeds")
    func serverErrors() async throws {
        let retry = KeyProtectRetryPolicy(maxRetries: 6, baseDelay: .milliseconds(10), maxDelay: .milliseconds(200))
        try await Self.withService(retry: retry) { service, emulator in
            let rootKey = try await service.createRootKey(label: "flaky").keyID
            try await emulator.setFaults(.init(errorRate: 0.2))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let key = Self.dataKey(UInt8(index))
                        let wrapped = try await service.wrap(SecretBytes(key), rootKeyID: rootKey, aad: Self.aad)
                        let result = try await service.unwrap(wrapped, rootKeyID: rootKey, aad: Self.aad)
                        #expect(result.plaintext.copyBytes() == key)
                    }
                }
                try await group.waitForAll()
            }
            let statistics = service.statistics
            #expect(statistics.serverErrors > 0)
            #expect(statistics.retries >= statistics.serverErrors)
            #expect(try await emulator.stats().status5xx == statistics.serverErrors)
        }
    }

    @Test("An outage gives unavailable within the retry budget; calls work again once it ends")
    func outage() async throws {
        let retry = KeyProtectRetryPolicy(
            budget: .seconds(2),
            baseDelay: .milliseconds(50),
            maxDelay: .milliseconds(500)
        )
        try await Self.withService(retry: retry) { service, emulator in
            let rootKey = try await service.createRootKey(label: "outage").keyID
            let wrapped = try await service.wrap(SecretBytes(Self.dataKey()), rootKeyID: rootKey, aad: Self.aad)
            try await emulator.setFaults(.init(outage: true))
            let error = await #expect(throws: RootKeyError.self) {
                _ = try await service.unwrap(wrapped, rootKeyID: rootKey, aad: Self.aad)
            }
            #expect(error?.code == .unavailable)
            #expect(error?.reason.contains("503") == true)
            #expect(service.statistics.exhausted == 1)
            try await emulator.setFaults(.init())
            let result = try await service.unwrap(wrapped, rootKeyID: rootKey, aad: Self.aad)
            #expect(result.plaintext.copyBytes() == Self.dataKey())
        }
    }

    @Test("An unreachable Key Protect gives unavailable")
    func unreachable() async throws {
        // A port nobody listens on: the emulator's, after it stopped.
        let emulator = try await KeyProtectEmulatorProcess.start(.init(apiKeys: [Self.apiKey]))
        let service = try Self.service(
            emulator,
            retry: KeyProtectRetryPolicy(maxRetries: 2, budget: .seconds(1), baseDelay: .milliseconds(20))
        )
        await emulator.stop()
        let error = await #expect(throws: RootKeyError.self) {
            _ = try await service.createRootKey(label: "nobody")
        }
        #expect(error?.code == .unavailable)
        #expect(service.statistics.connectionErrors > 0)
        try await service.shutdown()
    }

    @Test("After a rotation, unwrapping a version-1 key rewraps it; every provider numbers versions alike")
    func rotation() async throws {
        try await Self.withService { service, emulator in
            let rootKey = try await service.createRootKey(label: "rotating").keyID
            let old = try await service.wrap(SecretBytes(Self.dataKey()), rootKeyID: rootKey, aad: Self.aad)
            _ = try await service.rotate(rootKeyID: rootKey)

            let result = try await service.unwrap(old, rootKeyID: rootKey, aad: Self.aad)
            #expect(result.plaintext.copyBytes() == Self.dataKey())
            let rewrapped = try #require(result.rewrapped)
            #expect(rewrapped.rootKeyVersion == 2)
            let again = try await service.unwrap(rewrapped, rootKeyID: rootKey, aad: Self.aad)
            #expect(again.plaintext.copyBytes() == Self.dataKey())
            #expect(again.rewrapped == nil)

            // A second provider that never saw the key numbers the versions the same way.
            let fresh = try Self.service(emulator)
            do {
                let fromFresh = try await fresh.unwrap(old, rootKeyID: rootKey, aad: Self.aad)
                #expect(fromFresh.rewrapped?.rootKeyVersion == 2)
                _ = try await fresh.rotate(rootKeyID: rootKey)
                #expect(
                    try await service.wrap(SecretBytes(Self.dataKey()), rootKeyID: rootKey, aad: Self.aad)
                        .rootKeyVersion == 3
                )
                try await fresh.shutdown()
            } catch {
                try? await fresh.shutdown()
                throw error
            }
        }
    }

    @Test("The unwrap batcher sends one unwrap per key for 1,000 concurrent callers")
    func batcherSingleFlight() async throws {
        try await Self.withService(.init(apiKeys: [Self.apiKey], faults: .init(latencyMs: 20))) { service, emulator in
            let rootKey = try await service.createRootKey(label: "boot storm").keyID
            var requests: [UnwrapRequest] = []
            for index in 0..<10 {
                let key = KeyCache.Key(tenantID: "t", uniqueIdentifier: "key-\(index)")
                let aad = Array("t/key-\(index)".utf8)
                let wrapped = try await service.wrap(
                    SecretBytes(Self.dataKey(UInt8(index))),
                    rootKeyID: rootKey,
                    aad: aad
                )
                requests.append(UnwrapRequest(key: key, wrapped: wrapped, rootKeyID: rootKey, aad: aad))
            }
            try await emulator.resetStats()
            let access = KeyAccess(service: service)
            let frozen = requests
            try await withThrowingTaskGroup(of: Void.self) { group in
                for caller in 0..<1000 {
                    group.addTask {
                        let index = caller % 10
                        let result = try await access.unwrap(frozen[index])
                        #expect(result.plaintext.copyBytes() == Self.dataKey(UInt8(index)))
                    }
                }
                try await group.waitForAll()
            }
            let stats = try await emulator.stats()
            #expect(stats.calls("unwrap") == 10)
            #expect(access.batcher.statistics.unwraps == 10)
        }
    }
}
