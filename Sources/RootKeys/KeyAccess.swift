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
    /// Root keys already purged for not being active (see ``purgeInactive(_:)``).
    private let inactiveRootKeys = Mutex<Set<String>>([])

    /// A cache and a batcher in front of `service`.
    ///
    /// - Parameters:
    ///   - service: The root-key service every miss goes to.
    ///   - configuration: The cache's and the batcher's settings.
    ///   - clock: For TTLs, deadlines and the rate limit; tests pass a manual one.
    public init(
        service: any RootKeyService,
        configuration: Configuration = Configuration(),
        clock: any MonotonicClock = .continuous
    ) {
        self.cache = KeyCache(configuration: configuration.cache, clock: clock)
        self.batcher = UnwrapBatcher(
            service: service,
            cache: self.cache,
            configuration: configuration.batcher,
            clock: clock
        )
    }

    /// The key material of `request.key`: from the cache, or unwrapped through the batcher (which
    /// fills the cache).
    ///
    /// - Throws: See ``UnwrapBatcher/unwrap(_:)``.
    public func unwrap(_ request: UnwrapRequest) async throws -> UnwrapResult {
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
    public func purgeInactive(_ rootKeys: [RootKeyInfo]) {
        let inactive = Set(rootKeys.lazy.filter { $0.state != .active }.map(\.keyID))
        let newlyInactive = self.inactiveRootKeys.withLock { known in
            defer { known = inactive }
            return inactive.subtracting(known)
        }
        for rootKeyID in newlyInactive { self.cache.removeAll(rootKeyID: rootKeyID) }
    }
}
