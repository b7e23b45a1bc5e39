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

/// The outage breaker: as a state machine with explicit instants, then against the emulator.
@Suite("Key Protect outage breaker")
struct KeyProtectOutageBreakerTests {
    @Test("Opens after the threshold of unanswered calls, probes after the cool-down, doubles it on a failed probe")
    func stateMachine() {
        let breaker = KeyProtectOutageBreaker(threshold: 3, initialCooldown: .seconds(1), maxCooldown: .seconds(3))
        let start = ContinuousClock.now
        #expect(breaker.admit(now: start) == .call)
        #expect(breaker.failed(probe: false, now: start) == nil)
        #expect(breaker.failed(probe: false, now: start) == nil)
        #expect(!breaker.isOpen)
        #expect(breaker.failed(probe: false, now: start) == .seconds(1))
        #expect(breaker.isOpen)
        #expect(
            breaker.admit(now: start + .milliseconds(400)) == .refuse(failuresInARow: 3, retryIn: .milliseconds(600))
        )
        // A call that was already under way and fails too keeps it open without moving the probe.
        #expect(breaker.failed(probe: false, now: start + .milliseconds(500)) == nil)
        #expect(breaker.admit(now: start + .seconds(1)) == .probe)
        // One probe at a time.
        #expect(breaker.admit(now: start + .seconds(1)) == .refuse(failuresInARow: 4, retryIn: .zero))
        // A failed probe: open again for twice as long, then up to the maximum.
        breaker.failed(probe: true, now: start + .seconds(2))
        #expect(
            breaker.admit(now: start + .milliseconds(3_900)) == .refuse(failuresInARow: 5, retryIn: .milliseconds(100))
        )
        #expect(breaker.admit(now: start + .seconds(4)) == .probe)
        breaker.failed(probe: true, now: start + .seconds(4))
        #expect(breaker.admit(now: start + .milliseconds(6_999)) != .probe)
        #expect(breaker.admit(now: start + .seconds(7)) == .probe)
        // A probe that ends without an answer either way lets the next call probe.
        breaker.abandonProbe()
        #expect(breaker.admit(now: start + .seconds(7)) == .probe)
        // An answer closes it and resets the count and the cool-down.
        #expect(breaker.answered())
        #expect(!breaker.isOpen)
        #expect(breaker.admit(now: start + .seconds(7)) == .call)
        #expect(!breaker.answered())
        breaker.failed(probe: false, now: start + .seconds(8))
        breaker.failed(probe: false, now: start + .seconds(8))
        #expect(breaker.failed(probe: false, now: start + .seconds(8)) == .seconds(1))
    }

    @Test("An answer between failures resets the count")
    func answerResets() {
        let breaker = KeyProtectOutageBreaker(threshold: 2)
        breaker.failed(probe: false)
        breaker.answered()
        breaker.failed(probe: false)
        #expect(!breaker.isOpen)
        breaker.failed(probe: false)
        #expect(breaker.isOpen)
    }

    /// A key wrapped under a root key in the emulator, for the outage tests.
    struct Wrapped {
        var rootKey: String
        var ciphertext: WrappedKey
    }

    /// Runs `body` with an emulator and a provider with the given retry policy, breaker threshold
    /// and first cool-down, once a key is wrapped and the emulator's outage is on.
    static func withOutage(
        threshold: Int,
        cooldown: Duration,
        retry: KeyProtectRetryPolicy,
        _ body: (KeyProtectRootKeyService, KeyProtectEmulatorProcess, Wrapped) async throws -> Void
    ) async throws {
        try await KeyProtectEmulatorProcess.withRootKeyService(retry: retry) { configuration in
            configuration.outageThreshold = threshold
            configuration.outageCooldown = cooldown
        } _: { service, emulator in
            let rootKey = try await service.createRootKey(label: "breaker").keyID
            let ciphertext = try await service.wrap(SecretBytes(Self.secret), rootKeyID: rootKey, aad: Self.aad)
            try await emulator.setFaults(.init(outage: true))
            try await body(service, emulator, Wrapped(rootKey: rootKey, ciphertext: ciphertext))
        }
    }

    static let secret: [UInt8] = Array(repeating: 7, count: 32)
    static let aad = Array("tenant/breaker".utf8)

    @Test("During an outage, calls fail at once without a request once it opened; a probe finds Key Protect back")
    func againstTheEmulator() async throws {
        // A budget far longer than the retries need, and a cool-down far longer than the steps
        // between the two calls take: the test does not depend on how busy the machine is.
        let retry = KeyProtectRetryPolicy(maxRetries: 2, budget: .seconds(60), baseDelay: .milliseconds(20))
        let cooldown = Duration.seconds(3)
        try await Self.withOutage(threshold: 3, cooldown: cooldown, retry: retry) { service, emulator, key in
            let (rootKey, wrapped) = (key.rootKey, key.ciphertext)
            // Three requests without an answer (the first try and two retries) open it.
            let error = await #expect(throws: RootKeyError.self) {
                _ = try await service.unwrap(wrapped, rootKeyID: rootKey, aad: Self.aad)
            }
            #expect(error?.code == .unavailable)
            #expect(error?.reason.contains("503") == true)
            #expect(error?.reason.contains("after 2 retries") == true, "\(error?.reason ?? "")")
            let requests = service.statistics.requests
            let refused = await #expect(throws: RootKeyError.self) {
                _ = try await service.unwrap(wrapped, rootKeyID: rootKey, aad: Self.aad)
            }
            #expect(refused?.code == .unavailable)
            #expect(
                refused?.reason.contains("did not answer the last 3 requests") == true,
                "\(refused?.reason ?? "")"
            )
            #expect(service.statistics.requests == requests, "no request while open")
            #expect(service.statistics.outageRefusals == 1)

            // Key Protect comes back: after the cool-down the next call probes and goes through.
            try await emulator.setFaults(.init())
            try await Task.sleep(for: cooldown)
            let result = try await service.unwrap(wrapped, rootKeyID: rootKey, aad: Self.aad)
            #expect(result.plaintext.copyBytes() == Self.secret)
            #expect(service.statistics.requests == requests + 1)
            // Closed again: calls keep going through.
            let again = try await service.unwrap(wrapped, rootKeyID: rootKey, aad: Self.aad)
            #expect(again.plaintext.copyBytes() == Self.secret)
        }
    }

    @Test("Concurrent calls during an outage stop retrying once it opened: about one request each, not five")
    func concurrentCallsStopRetrying() async throws {
        let retry = KeyProtectRetryPolicy(maxRetries: 4, budget: .seconds(60), baseDelay: .milliseconds(600))
        try await Self.withOutage(threshold: 4, cooldown: .seconds(30), retry: retry) { service, _, key in
            let (rootKey, wrapped) = (key.rootKey, key.ciphertext)
            let before = service.statistics.requests
            let failures = await withTaskGroup(of: RootKeyError.Code?.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        do {
                            _ = try await service.unwrap(wrapped, rootKeyID: rootKey, aad: Self.aad)
                            return nil
                        } catch {
                            return (error as? RootKeyError)?.code
                        }
                    }
                }
                var codes: [RootKeyError.Code?] = []
                for await code in group { codes.append(code) }
                return codes
            }
            #expect(failures.count == 8)
            #expect(failures.allSatisfy { $0 == .unavailable })
            // Without the breaker: 8 calls x 5 requests (32 retries). With it, a call stops at
            // its next retry once 4 requests failed (normally each call sends its first request
            // only), and a call that starts after that is refused without one.
            let sent = service.statistics.requests - before
            #expect(sent >= 4 && sent < 8 * 5, "\(sent) requests")
            #expect(service.statistics.retries < 8 * 4, "\(service.statistics.retries) retries")
        }
    }
}
