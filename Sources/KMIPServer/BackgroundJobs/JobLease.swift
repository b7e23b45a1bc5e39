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

#if canImport(Glibc)
import Glibc
#endif

/// A lease on a background job, kept as a shared value of the key store, so that of the nodes
/// sharing a store one at a time runs the job (the re-wrap after a rotation).
///
/// The holder renews the lease while it works; a lease not renewed within ``duration`` (its node
/// died or lost the store) can be taken by any node, which then resumes the job from the store.
/// Times are wall-clock seconds, so nodes' clocks must agree to well within ``duration``.
public struct JobLease: Sendable {
    public let store: any KeyStore
    /// This node, as the holder of leases (a random id per process).
    public let owner: String
    /// How long a lease lasts without renewal.
    public let duration: Duration

    public init(store: any KeyStore, owner: String, duration: Duration = .seconds(60)) {
        self.store = store
        self.owner = owner
        self.duration = duration
    }

    /// Takes the lease on `job` when it is free, expired or already this node's (then renews it).
    ///
    /// - Returns: Whether this node holds the lease now.
    public func acquire(_ job: String) async throws -> Bool {
        let owner = self.owner
        let now = Self.now()
        let until = now + Int64(self.duration.components.seconds)
        return try await self.store.updateSharedValue(named: Self.name(job)) { current in
            if let current, let holder = Holder(current), holder.owner != owner, holder.until > now {
                return (current, false)
            }
            return (Holder(owner: owner, until: until).encoded, true)
        }
    }

    /// Gives the lease on `job` up if this node holds it.
    public func release(_ job: String) async throws {
        let owner = self.owner
        try await self.store.updateSharedValue(named: Self.name(job)) { current in
            guard let current, let holder = Holder(current), holder.owner == owner else { return (current ?? [], ()) }
            return (Holder(owner: owner, until: 0).encoded, ())
        }
    }

    /// Who holds `job`'s lease now, if anyone.
    public func holder(_ job: String) async throws -> String? {
        guard let value = try await self.store.sharedValue(named: Self.name(job)), let holder = Holder(value),
            holder.until > Self.now()
        else { return nil }
        return holder.owner
    }

    static func name(_ job: String) -> String { "lease." + job }

    static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec)
    }

    /// `OWNER UNTIL` in UTF-8.
    struct Holder {
        var owner: String
        var until: Int64

        init(owner: String, until: Int64) {
            self.owner = owner
            self.until = until
        }

        init?(_ bytes: [UInt8]) {
            let text = String(decoding: bytes, as: UTF8.self)
            guard let space = text.lastIndex(of: " "), let until = Int64(text[text.index(after: space)...]) else {
                return nil
            }
            self.owner = String(text[..<space])
            self.until = until
        }

        var encoded: [UInt8] { Array("\(self.owner) \(self.until)".utf8) }
    }
}
