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

public import KeyStore
public import RootKeys

/// Fills the key cache with a tenant's most recent keys before the hosts ask (say, before a
/// planned restart of a cluster), through the unwrap batcher, so its in-flight bound and rate limit
/// hold and Gets arriving meanwhile take their turn between the prewarm's unwraps.
public struct Prewarmer: Sendable {
    /// What a prewarm did.
    public struct Result: Hashable, Sendable {
        /// Keys looked at (the most recent Pre-Active and Active keys with material).
        public var considered: Int
        /// Keys now in the cache (unwrapped now, or already there).
        public var warmed: Int
        /// Keys whose unwrap failed.
        public var failed: Int
    }

    public let store: any KeyStore
    public let keyAccess: KeyAccess

    public init(store: any KeyStore, keyAccess: KeyAccess) {
        self.store = store
        self.keyAccess = keyAccess
    }

    /// Unwraps into the cache the `recent` most recently created Pre-Active and Active keys of
    /// `tenant`. A failure of one key does not stop the others.
    ///
    /// - Throws: When the store cannot be read.
    public func prewarm(tenant: String, recent: Int) async throws -> Result {
        guard recent > 0 else { return Result(considered: 0, warmed: 0, failed: 0) }
        // Pre-Active (1) and Active (2): what hosts ask for.
        let query = ObjectQuery(states: [1, 2])
        let total = try await self.store.objects(tenantID: tenant, matching: ObjectQuery(states: [1, 2], limit: 0))
            .totalMatches
        var page = query
        page.offset = max(0, total - recent)
        page.limit = recent
        let objects = try await self.store.objects(tenantID: tenant, matching: page).objects.filter {
            $0.wrappedKey != nil
        }

        // Never more callers waiting than the batcher can serve within its deadline.
        let batcher = self.keyAccess.batcher.configuration
        var width = batcher.maxInFlight
        if let rate = batcher.rateLimit {
            let seconds = Double(batcher.timeout.components.seconds)
            width = min(width, max(1, Int(rate.unwrapsPerSecond * seconds / 2)))
        }
        var warmed = 0
        var failed = 0
        let requests = objects.compactMap { object -> UnwrapRequest? in
            guard let wrapped = object.wrappedKey else { return nil }
            return UnwrapRequest(
                key: KeyCache.Key(tenantID: object.tenantID, uniqueIdentifier: object.uniqueIdentifier),
                wrapped: WrappedKey(ciphertext: wrapped.ciphertext, rootKeyVersion: wrapped.rootKeyVersion),
                rootKeyID: wrapped.rootKeyID,
                aad: KMIPServerCore.associatedData(tenantID: object.tenantID, uniqueIdentifier: object.uniqueIdentifier)
            )
        }
        let access = self.keyAccess
        await withTaskGroup(of: Bool.self) { group in
            var started = 0
            while started < min(width, requests.count) {
                let request = requests[started]
                group.addTask { (try? await access.unwrap(request)) != nil }
                started += 1
            }
            for await ok in group {
                if ok { warmed += 1 } else { failed += 1 }
                if started < requests.count {
                    let request = requests[started]
                    group.addTask { (try? await access.unwrap(request)) != nil }
                    started += 1
                }
            }
        }
        return Result(considered: objects.count, warmed: warmed, failed: failed)
    }
}
