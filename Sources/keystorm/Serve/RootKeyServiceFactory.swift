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
import KeyStore
import RootKeys

/// An opened root-key service and what the server does with it beyond the protocol.
struct RootKeyProvider: Sendable {
    /// The service every wrap, unwrap, rotation and deletion goes to.
    var service: any RootKeyService
    /// Reloads what another process changed (Local: `rootkeys.sealed`, which `keystorm root-key`
    /// rewrites); runs on every refresh (`refresh-interval`, 1 s). `nil` when the service needs none.
    var refresh: (@Sendable () async throws -> Void)?
    /// Every root key's info without a remote call (Local: from memory, right after ``refresh``),
    /// checked on every refresh. Providers without it are polled per tenant every
    /// `root-keys.poll-interval`.
    var knownRootKeys: (@Sendable () -> [RootKeyInfo])?
    /// The cache and batcher defaults for this provider; the `cache.*` and `unwrap.*` settings
    /// override them (see ``RootKeyServiceFactory/accessConfiguration(_:defaults:)``).
    var accessDefaults: KeyAccess.Configuration

    init(
        service: any RootKeyService,
        refresh: (@Sendable () async throws -> Void)? = nil,
        knownRootKeys: (@Sendable () -> [RootKeyInfo])? = nil,
        accessDefaults: KeyAccess.Configuration = KeyAccess.Configuration()
    ) {
        self.service = service
        self.refresh = refresh
        self.knownRootKeys = knownRootKeys
        self.accessDefaults = accessDefaults
    }
}

/// Maps the `root-keys` setting (`local`, `keyprotect`, `pkcs11`) to an opened ``RootKeyProvider``,
/// and reads the key cache's and unwrap batcher's settings.
///
/// Every command that touches root keys (`serve`, `tenants`, `keys`, `root-key`) opens its service
/// here, so they all use the one the configuration names.
enum RootKeyServiceFactory {
    /// Every provider name the `root-keys` setting accepts, built into this binary or not.
    static let knownProviders = ["local", "keyprotect", "pkcs11"]

    /// The `root-keys` setting: flag, environment (`KEYSTORM_ROOT_KEYS`), file, default `local`.
    static func providerName(_ settings: SettingsResolver, flag: String? = nil) -> String {
        settings.string("root-keys", flag: flag, default: "local").lowercased()
    }

    /// Opens the root-key service `name` with its settings.
    ///
    /// - Throws: ``SettingsError`` for an unknown name or a provider not in this build, and the
    ///   provider's own errors (a wrong master key, an unreachable service).
    ///
    /// - Parameter store: The key store; when several nodes share it (PostgreSQL), the Local
    ///   provider keeps its sealed root keys there rather than in the data directory.
    static func open(
        _ name: String,
        settings: SettingsResolver,
        directory: DataDirectory,
        store: any KeyStore
    ) async throws -> RootKeyProvider {
        switch name {
        case "local":
            var configuration = LocalRootKeyService.Configuration(dataDirectory: directory.path)
            if case .postgres(let location) = try directory.storeLocation() {
                configuration.sealedStorage = SharedSealedKeyStorage(
                    store: store,
                    storeDescription: location.redactedURL
                )
            }
            let local = try await LocalRootKeyService.open(configuration)
            return RootKeyProvider(
                service: local,
                refresh: { try await local.refresh() },
                knownRootKeys: { local.allRootKeys() }
            )
        case "pkcs11":
            // Root keys inside an HSM token (PKCS11Settings: pkcs11.module, pkcs11.token-label, the PIN).
            let pkcs11 = try PKCS11Settings(settings)
            let service = try await PKCS11RootKeyService.open(pkcs11.configuration)
            return RootKeyProvider(service: service, accessDefaults: pkcs11.accessDefaults)
        case "keyprotect":
            // Root keys in IBM Key Protect (KeyProtectSettings: keyprotect.url, keyprotect.instance-id, the API key).
            let keyProtect = try KeyProtectSettings(settings)
            return RootKeyProvider(service: try KeyProtectRootKeyService(configuration: keyProtect.configuration))
        default:
            throw SettingsError(
                "root-keys must be one of \(Self.knownProviders.joined(separator: ", ")), not '\(name)'"
            )
        }
    }

    // MARK: - Key cache and unwrap batcher settings

    /// The key cache's and unwrap batcher's configuration: `defaults` (the provider's), overridden
    /// by the settings that are given.
    ///
    /// | key | meaning | default |
    /// | --- | --- | --- |
    /// | `cache.max-entries` | keys held unwrapped in memory; 0 turns the cache off | 100000 |
    /// | `cache.max-bytes` | bytes of key material held | 67108864 (64 MiB) |
    /// | `cache.ttl` | how long an unwrapped key is kept after its unwrap | 1h |
    /// | `cache.idle-timeout` | drop a key not read for this long; `off` for never | off |
    /// | `unwrap.max-in-flight` | unwraps sent to the root-key service at once | 64 |
    /// | `unwrap.rate-limit` | unwraps per second sent to the service; `off` for none | off |
    /// | `unwrap.burst` | unwraps that may go at once after a quiet period (with a rate limit) | the rate, at least 1 |
    /// | `unwrap.timeout` | how long a Get waits for its unwrap before "root key service unavailable" | 10s |
    /// | `unwrap.batch-window` | how long unwraps wait to be sent together, for services that take batches; 0 = off | 0 |
    ///
    /// Durations are seconds (`30`, `0.5`) or a number with `ms`, `s`, `m` or `h` (`250ms`, `1h`).
    static func accessConfiguration(
        _ settings: SettingsResolver,
        defaults: KeyAccess.Configuration
    ) throws -> KeyAccess.Configuration {
        var configuration = defaults
        var cache = configuration.cache
        cache.maxEntries = try Self.nonNegative(settings, "cache.max-entries", default: cache.maxEntries)
        cache.maxBytes = try Self.nonNegative(settings, "cache.max-bytes", default: cache.maxBytes)
        cache.timeToLive = try Self.duration(settings, "cache.ttl") ?? cache.timeToLive
        if let idle = settings.string("cache.idle-timeout", flag: nil) {
            cache.idleTimeout = try Self.isOff(idle) ? nil : Self.parseDuration(idle, key: "cache.idle-timeout")
        }
        configuration.cache = cache

        var batcher = configuration.batcher
        let maxInFlight = try settings.integer("unwrap.max-in-flight", flag: nil, default: batcher.maxInFlight)
        guard maxInFlight >= 1 else {
            throw SettingsError("'unwrap.max-in-flight' must be at least 1, not \(maxInFlight)")
        }
        batcher.maxInFlight = maxInFlight
        if let rateText = settings.string("unwrap.rate-limit", flag: nil) {
            if Self.isOff(rateText) {
                batcher.rateLimit = nil
            } else {
                guard let rate = Double(rateText), rate > 0, rate.isFinite else {
                    throw SettingsError(
                        "'unwrap.rate-limit' must be a positive number of unwraps per second or off, not '\(rateText)'"
                    )
                }
                batcher.rateLimit = RateLimit(unwrapsPerSecond: rate, burst: max(1, Int(rate.rounded(.up))))
            }
        }
        if let burstText = settings.string("unwrap.burst", flag: nil) {
            guard let burst = Int(burstText), burst >= 1 else {
                throw SettingsError("'unwrap.burst' must be an integer of at least 1, not '\(burstText)'")
            }
            guard let limit = batcher.rateLimit else { throw SettingsError("'unwrap.burst' needs 'unwrap.rate-limit'") }
            batcher.rateLimit = RateLimit(unwrapsPerSecond: limit.unwrapsPerSecond, burst: burst)
        }
        if let timeout = try Self.duration(settings, "unwrap.timeout") {
            guard timeout > .zero else { throw SettingsError("'unwrap.timeout' must be longer than 0") }
            batcher.timeout = timeout
        }
        if let window = try Self.duration(settings, "unwrap.batch-window") {
            batcher.batchWindow = window
        }
        configuration.batcher = batcher
        return configuration
    }

    /// A duration setting, or `nil` when it is not given.
    static func duration(_ settings: SettingsResolver, _ key: String) throws -> Duration? {
        guard let text = settings.string(key, flag: nil) else { return nil }
        return try Self.parseDuration(text, key: key)
    }

    /// `30`, `0.5`, `250ms`, `10s`, `5m`, `1h`.
    static func parseDuration(_ text: String, key: String) throws -> Duration {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = trimmed
        var scale = 1.0
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            number = String(trimmed.dropLast(unit.suffix.count))
            scale = unit.seconds
            break
        }
        guard let value = Double(number), value >= 0, value.isFinite else {
            throw SettingsError("'\(key)' must be a duration such as 30, 0.5, 250ms, 10s, 5m or 1h, not '\(text)'")
        }
        return .milliseconds(Int64((value * scale * 1000).rounded()))
    }

    private static func nonNegative(_ settings: SettingsResolver, _ key: String, default fallback: Int) throws -> Int {
        let value = try settings.integer(key, flag: nil, default: fallback)
        guard value >= 0 else { throw SettingsError("'\(key)' must not be negative, not \(value)") }
        return value
    }

    private static func isOff(_ text: String) -> Bool {
        ["off", "none", "no", "false"].contains(text.lowercased())
    }
}
