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

import Crypto
import Foundation
import Synchronization

/// The emulated Key Protect instance and IAM: keys, tokens, faults and counters behind one
/// mutex (every critical section is short and does no I/O), and the state file, written off the
/// cooperative pool by ``StateFile``.
final class Emulator: Sendable {
    struct Configuration: Sendable {
        var instanceID: String
        /// Accepted IAM API keys; empty accepts any non-empty key.
        var apiKeys: Set<String>
        var tokenTTL: Int
        var minimumRotationInterval: Double?
    }

    struct State: Sendable {
        var vault: Vault
        var faults: Faults
        var bucket: TokenBucket?
        var stats = Stats()
        /// Bumped on every mutation of the vault; the state file keeps the newest.
        var generation: UInt64 = 0
    }

    let configuration: Configuration
    private let state: Mutex<State>
    private let tokenKey: SymmetricKey
    private let stateFile: StateFile?

    init(configuration: Configuration, faults: Faults, stateFile: StateFile?, persisted: PersistedState?) {
        self.configuration = configuration
        self.stateFile = stateFile
        self.tokenKey = persisted.map { SymmetricKey(data: $0.tokenSecret) } ?? SymmetricKey(size: .bits256)
        let now = ContinuousClock.now
        self.state = Mutex(
            State(
                vault: Vault(keys: persisted?.keys ?? []),
                faults: faults,
                bucket: faults.rateLimit.map { TokenBucket(rate: $0, now: now) }
            )
        )
    }

    // MARK: Faults and counters

    var faults: Faults { self.state.withLock { $0.faults } }

    func setFaults(_ faults: Faults) {
        self.state.withLock { state in
            if faults.rateLimit != state.faults.rateLimit {
                state.bucket = faults.rateLimit.map { TokenBucket(rate: $0, now: .now) }
            }
            state.faults = faults
        }
    }

    var stats: Stats { self.state.withLock { $0.stats } }

    func resetStats() {
        self.state.withLock { state in
            let inFlight = state.stats.inFlight
            state.stats = Stats(inFlight: inFlight, inFlightMax: inFlight)
        }
    }

    /// Counts a call of `kind` and one more request in flight.
    func begin(_ kind: String) {
        self.state.withLock { state in
            state.stats.calls[kind, default: 0] += 1
            state.stats.inFlight += 1
            state.stats.inFlightMax = max(state.stats.inFlightMax, state.stats.inFlight)
        }
    }

    /// One request fewer in flight, answered with `status`.
    func end(status: Int) {
        self.state.withLock { state in
            state.stats.inFlight -= 1
            if status == 429 { state.stats.status429 += 1 }
            if status >= 500 { state.stats.status5xx += 1 }
        }
    }

    /// Takes a token from the rate limiter; `false` when the call is over the limit.
    func admitKeyAction() -> Bool {
        self.state.withLock { state in
            guard state.bucket != nil else { return true }
            return state.bucket!.take(now: .now)
        }
    }

    // MARK: IAM tokens

    /// Whether `apiKey` may get a token.
    func accepts(apiKey: String) -> Bool {
        !apiKey.isEmpty && (self.configuration.apiKeys.isEmpty || self.configuration.apiKeys.contains(apiKey))
    }

    /// A token valid for the configured TTL: `kpemu.<expiry ms>.<nonce>.<HMAC>`, verifiable
    /// without a table (and across restarts with a state file, which keeps the HMAC key).
    func issueToken(now: Date) -> (token: String, expiration: Int) {
        let expiry = Int64((now.timeIntervalSince1970 + Double(self.configuration.tokenTTL)) * 1000)
        let nonce = SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }.base64URL
        let body = "kpemu.\(expiry).\(nonce)"
        let mac = Data(HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: self.tokenKey)).base64URL
        return (body + "." + mac, Int(expiry / 1000))
    }

    /// Whether `token` is one of ours and not expired at `now`.
    func validates(token: String, now: Date) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "kpemu", let expiry = Int64(parts[1]),
            let mac = Data(base64URL: String(parts[3]))
        else { return false }
        let body = parts[0..<3].joined(separator: ".")
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(body.utf8), using: self.tokenKey) else {
            return false
        }
        return Double(expiry) / 1000 > now.timeIntervalSince1970
    }

    // MARK: Keys

    /// Reads the vault.
    func read<T: Sendable>(_ body: (Vault) throws(KPError) -> T) throws(KPError) -> T {
        try self.state.withLock { (state) throws(KPError) -> T in try body(state.vault) }
    }

    /// Changes the vault and, when it changed, writes the state file before returning.
    func mutate<T: Sendable>(_ body: (inout Vault) throws(KPError) -> T) async throws(KPError) -> T {
        let (result, snapshot) = try self.state.withLock {
            (state) throws(KPError) -> (T, (UInt64, [RootKey])) in
            let result = try body(&state.vault)
            state.generation += 1
            return (result, (state.generation, state.vault.allKeys))
        }
        if let stateFile = self.stateFile {
            let persisted = PersistedState(
                tokenSecret: self.tokenKey.withUnsafeBytes { Data($0) },
                keys: snapshot.1
            )
            do {
                try await stateFile.write(persisted, generation: snapshot.0)
            } catch {
                throw KPError(status: 500, code: "INTERNAL_SERVER_ERR", message: "cannot persist the state: \(error)")
            }
        }
        return result
    }
}

extension Data {
    var base64URL: String {
        self.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    init?(base64URL: String) {
        var text = base64URL.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        self.init(base64Encoded: text)
    }
}
