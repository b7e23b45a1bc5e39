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

public import Metrics
import Synchronization

/// The read path to unwrapped keys: the ``KeyCache`` first, then the ``UnwrapBatcher`` in front of
/// the root-key service. One per server and root-key service.
///
/// ```swift
/// let access = KeyAccess(service: rootKeys)
/// let plaintext = try await access.unwrap(
///     UnwrapRequest(key: .init(tenantID: t, uniqueIdentifier: uid), wrapped: w, rootKeyID: r, aad: aad)
/// ).plaintext
/// access.purge(.init(tenantID: t, uniqueIdentifier: uid))  // after Revoke or Destroy
/// ```
public final class KeyAccess: Sendable {
    /// The cache's and the batcher's settings.
    public struct Configuration: Sendable {
        public var cache: KeyCache.Configuration
        public var batcher: UnwrapBatcher.Configuration

        /// The defaults: 100,000 entries, 64 MiB, TTL 1 h; 64 unwraps in flight, no rate limit,
        /// a 10 s deadline.
        public init(
            cache: KeyCache.Configuration = KeyCache.Configuration(),
            batcher: UnwrapBatcher.Configuration = UnwrapBatcher.Configuration()
        ) {
            self.cache = cache
            self.batcher = batcher
        }
    }

    public let cache: KeyCache
    public let batcher: UnwrapBatcher
    /// Root keys known not to be active, and their state (see ``purgeInactive(_:)``).
    private let inactiveRootKeys = Mutex<[String: RootKeyState]>([:])

    /// A cache and a batcher in front of `service`.
    ///
    /// - Parameters:
    ///   - service: The root-key service every miss goes to.
    ///   - configuration: The cache's and the batcher's settings.
    ///   - clock: For TTLs, deadlines and the rate limit; tests pass a manual one.
    ///   - metrics: Where the cache's and batcher's metrics go; the process-wide factory by default.
    public init(
        service: any RootKeyService,
        configuration: Configuration = Configuration(),
        clock: any MonotonicClock = .continuous,
        metrics: any MetricsFactory = MetricsSystem.factory
    ) {
        self.cache = KeyCache(configuration: configuration.cache, clock: clock, metrics: metrics)
        self.batcher = UnwrapBatcher(
            service: service,
            cache: self.cache,
            configuration: configuration.batcher,
            clock: clock,
            metrics: metrics
        )
    }

    /// The key material of `request.key`: from the cache, or unwrapped through the batcher (which
    /// fills the cache).
    ///
    /// - Throws: See ``UnwrapBatcher/unwrap(_:)``.
    ///   A root key that ``purgeInactive(_:)`` last saw deleted or disabled refuses at once, cached
    ///   keys included: ``RootKeyError/deleted`` or ``RootKeyError/disabled``.
    public func unwrap(_ request: UnwrapRequest) async throws -> UnwrapResult {
        if let state = self.inactiveState(rootKeyID: request.rootKeyID) {
            throw RootKeyError(
                state == .deleted ? .deleted : .disabled,
                reason: "root key \(request.rootKeyID) is \(state.rawValue)"
            )
        }
        if let plaintext = self.cache.value(for: request.key) {
            return UnwrapResult(plaintext: plaintext)
        }
        return try await self.batcher.unwrap(request)
    }

    /// Forgets one key (Revoke or Destroy).
    public func purge(_ key: KeyCache.Key) {
        self.cache.remove(key)
    }

    /// Forgets every key of a tenant.
    public func purge(tenantID: String) {
        self.cache.removeAll(tenantID: tenantID)
    }

    /// Forgets every key unwrapped with a root key that `rootKeys` lists as not active (deleted or
    /// disabled), once per time it stops being active. Call it after each refresh of the root keys.
    /// Later unwraps under such a root key fail at once (see ``unwrap(_:)``) until a later call
    /// lists it as active again.
    public func purgeInactive(_ rootKeys: [RootKeyInfo]) {
        var inactive: [String: RootKeyState] = [:]
        for info in rootKeys where info.state != .active { inactive[info.keyID] = info.state }
        let newlyInactive = self.inactiveRootKeys.withLock { known in
            defer { known = inactive }
            return inactive.keys.filter { known[$0] == nil }
        }
        for rootKeyID in newlyInactive { self.cache.removeAll(rootKeyID: rootKeyID) }
    }

    /// The state of `rootKeyID` when ``purgeInactive(_:)`` last saw it deleted or disabled; `nil`
    /// when it was active or not listed.
    public func inactiveState(rootKeyID: String) -> RootKeyState? {
        self.inactiveRootKeys.withLock { $0[rootKeyID] }
    }
}
