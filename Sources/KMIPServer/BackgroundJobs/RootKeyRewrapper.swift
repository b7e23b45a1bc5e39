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
import Synchronization

/// Where the re-wrap of one tenant's keys stands (for `keystorm root-key status` and metrics).
public struct RewrapProgress: Hashable, Sendable {
    public var tenantID: String
    public var rootKeyID: String
    /// The tenant's current root-key version: every key moves to it (or later).
    public var targetVersion: Int
    /// Keys under an older version when last counted (the start of the current or last pass,
    /// less those re-wrapped since).
    public var remaining: Int
    /// Keys re-wrapped by this process.
    public var rewrapped: Int
    /// Re-wraps the root-key service refused (logged; retried on the next pass).
    public var failed: Int
    /// Keys changed by another request while being re-wrapped (retried on the next pass).
    public var conflicts: Int
    /// Whether a pass over this tenant is running now.
    public var running: Bool

    public init(
        tenantID: String,
        rootKeyID: String,
        targetVersion: Int,
        remaining: Int = 0,
        rewrapped: Int = 0,
        failed: Int = 0,
        conflicts: Int = 0,
        running: Bool = false
    ) {
        self.tenantID = tenantID
        self.rootKeyID = rootKeyID
        self.targetVersion = targetVersion
        self.remaining = remaining
        self.rewrapped = rewrapped
        self.failed = failed
        self.conflicts = conflicts
        self.running = running
    }
}

/// Moves every key of a tenant to its root key's current version after a rotation, without the
/// plaintext ever leaving the root-key service (``RootKeyService/rewrap(_:rootKeyID:aad:)``).
///
/// The work is derived from the store: every object whose wrapped key is under an older version
/// than the tenant's record (``KeyStore/objectsNeedingRewrap(tenantID:currentVersion:limit:)``),
/// so a pass interrupted by a restart simply goes on at the next start. Each object is written
/// with an optimistic update; one changed meanwhile by a KMIP request is left for the next pass.
/// Re-wraps are paced at ``Configuration/rate`` per second so the job never crowds out Gets at
/// the root-key service. Keys stay readable throughout: every version unwraps.
public final class RootKeyRewrapper: Sendable {
    public struct Configuration: Sendable {
        /// Re-wraps per second, at most (`rewrap.rate`).
        public var rate: Double
        /// Objects read from the store at a time.
        public var batchSize: Int

        /// - Parameters:
        ///   - rate: Default 50 per second.
        ///   - batchSize: Default 100.
        public init(rate: Double = 50, batchSize: Int = 100) {
            self.rate = rate > 0 && rate.isFinite ? rate : 50
            self.batchSize = max(1, batchSize)
        }
    }

    public let store: any KeyStore
    public let service: any RootKeyService
    public let configuration: Configuration
    /// With nodes sharing a store: the lease that lets one node at a time re-wrap a tenant.
    public let lease: JobLease?
    private let log: @Sendable (String) -> Void
    private let progressByTenant = Mutex<[String: RewrapProgress]>([:])
    /// When the next re-wrap may start (the pacing).
    private let nextSlot = Mutex<ContinuousClock.Instant?>(nil)
    /// Passes running now, so two callers (the timer and `--wait`) do not re-wrap one tenant twice.
    private let runningTenants = Mutex<Set<String>>([])

    public init(
        store: any KeyStore,
        service: any RootKeyService,
        configuration: Configuration = Configuration(),
        lease: JobLease? = nil,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.store = store
        self.service = service
        self.configuration = configuration
        self.lease = lease
        self.log = log
    }

    /// Every tenant's progress seen by this process, by tenant id.
    public var progress: [RewrapProgress] {
        self.progressByTenant.withLock { $0.values.sorted { $0.tenantID < $1.tenantID } }
    }

    /// Runs ``runOnce()`` every `interval` until the task is cancelled.
    public func run(every interval: Duration) async {
        while !Task.isCancelled {
            await self.runOnce()
            try? await Task.sleep(for: interval)
        }
    }

    /// One pass over every tenant of this service whose keys are not all at the current version.
    ///
    /// - Returns: How many keys were re-wrapped.
    @discardableResult
    public func runOnce() async -> Int {
        let tenants: [Tenant]
        do {
            tenants = try await self.store.tenants()
        } catch {
            self.log("re-wrap: reading the tenants failed: \(error)")
            return 0
        }
        var total = 0
        for tenant in tenants where tenant.rootKey.provider == self.service.providerName {
            if Task.isCancelled { break }
            do {
                total += try await self.rewrap(tenant: tenant)
            } catch {
                self.log("re-wrap of tenant \(tenant.id) stopped: \(error)")
            }
        }
        return total
    }

    /// Re-wraps every key of `tenant` under an older version than `tenant.rootKey.version`.
    ///
    /// - Returns: How many keys were re-wrapped. Keys that failed or changed meanwhile are left for
    ///   the next pass.
    /// - Throws: When the store cannot be read, or the task is cancelled.
    public func rewrap(tenant: Tenant) async throws -> Int {
        let target = tenant.rootKey.version
        var batch = try await self.store.objectsNeedingRewrap(
            tenantID: tenant.id,
            currentVersion: target,
            limit: self.configuration.batchSize
        )
        guard !batch.isEmpty else {
            self.update(tenant) { $0.remaining = 0 }
            return 0
        }
        guard self.runningTenants.withLock({ $0.insert(tenant.id).inserted }) else { return 0 }
        defer { self.runningTenants.withLock { _ = $0.remove(tenant.id) } }
        // Another node sharing the store may be on it: then it is that node's job.
        let job = "rewrap." + tenant.id
        if let lease = self.lease {
            guard try await lease.acquire(job) else { return 0 }
        }
        defer {
            if let lease = self.lease { Task { try? await lease.release(job) } }
        }
        let remaining = try await RootKeyCensus.count(self.store, tenantID: tenant.id).olderThan(target)
        self.update(tenant) {
            $0.remaining = remaining
            $0.running = true
        }
        defer { self.update(tenant) { $0.running = false } }
        self.log("re-wrapping \(remaining) keys of tenant \(tenant.id) to root-key version \(target)")
        var total = 0
        while !batch.isEmpty {
            var progressed = false
            for object in batch {
                try Task.checkCancellation()
                await self.pace()
                switch await self.rewrap(object, target: target) {
                case .rewrapped:
                    progressed = true
                    total += 1
                    self.update(tenant) {
                        $0.rewrapped += 1
                        $0.remaining = max(0, $0.remaining - 1)
                    }
                case .conflict:
                    self.update(tenant) { $0.conflicts += 1 }
                case .serviceBehind(let version):
                    self.log(
                        "re-wrap of tenant \(tenant.id) waits: the root-key service is at version \(version), the tenant at \(target)"
                    )
                    return total
                case .failed(let error):
                    self.update(tenant) { $0.failed += 1 }
                    self.log("re-wrap of \(object.uniqueIdentifier) (tenant \(tenant.id)) failed: \(error)")
                    if case RootKeyError.deleted = error { return total }
                    if case RootKeyError.disabled = error { return total }
                }
            }
            // Only failures and conflicts in a whole batch: leave them for the next pass.
            guard progressed else { break }
            // Renew the lease between batches; a node that lost it stops here.
            if let lease = self.lease, try await !lease.acquire(job) { break }
            batch = try await self.store.objectsNeedingRewrap(
                tenantID: tenant.id,
                currentVersion: target,
                limit: self.configuration.batchSize
            )
        }
        self.log("re-wrapped \(total) keys of tenant \(tenant.id) to root-key version \(target)")
        return total
    }

    private enum Outcome {
        case rewrapped
        case conflict
        case serviceBehind(Int)
        case failed(any Error)
    }

    /// Re-wraps one object and writes it back if nobody changed it meanwhile.
    private func rewrap(_ object: StoredObject, target: Int) async -> Outcome {
        guard let wrapped = object.wrappedKey else { return .conflict }
        let fresh: WrappedKey
        do {
            fresh = try await self.service.rewrap(
                WrappedKey(ciphertext: wrapped.ciphertext, rootKeyVersion: wrapped.rootKeyVersion),
                rootKeyID: wrapped.rootKeyID,
                aad: KMIPServerCore.associatedData(tenantID: object.tenantID, uniqueIdentifier: object.uniqueIdentifier)
            )
        } catch {
            return .failed(error)
        }
        // The service has not caught up with the rotation yet (another process rotated it a
        // moment ago): try again on the next pass.
        guard fresh.rootKeyVersion >= target else { return .serviceBehind(fresh.rootKeyVersion) }
        var updated = object
        updated.wrappedKey = WrappedKeyRecord(
            ciphertext: fresh.ciphertext,
            rootKeyID: wrapped.rootKeyID,
            rootKeyVersion: fresh.rootKeyVersion
        )
        do {
            try await self.store.update(updated, expectedRevision: object.revision)
            return .rewrapped
        } catch KeyStoreError.conflict {
            return .conflict
        } catch KeyStoreError.notFound {
            return .conflict
        } catch {
            return .failed(error)
        }
    }

    /// Waits for the next re-wrap slot: at most ``Configuration/rate`` per second.
    private func pace() async {
        let interval = Duration.nanoseconds(Int64((1e9 / self.configuration.rate).rounded(.up)))
        let clock = ContinuousClock()
        let slot = self.nextSlot.withLock { next -> ContinuousClock.Instant in
            let now = clock.now
            let slot = max(now, next ?? now)
            next = slot + interval
            return slot
        }
        if slot > clock.now { try? await clock.sleep(until: slot) }
    }

    private func update(_ tenant: Tenant, _ change: (inout RewrapProgress) -> Void) {
        self.progressByTenant.withLock { all in
            var progress =
                all[tenant.id]
                ?? RewrapProgress(
                    tenantID: tenant.id,
                    rootKeyID: tenant.rootKey.keyID,
                    targetVersion: tenant.rootKey.version
                )
            if progress.targetVersion != tenant.rootKey.version || progress.rootKeyID != tenant.rootKey.keyID {
                progress = RewrapProgress(
                    tenantID: tenant.id,
                    rootKeyID: tenant.rootKey.keyID,
                    targetVersion: tenant.rootKey.version
                )
            }
            change(&progress)
            all[tenant.id] = progress
        }
    }
}

/// How many of a tenant's keys are wrapped under each root-key version.
public struct RootKeyCensus: Hashable, Sendable {
    /// Keys per root-key version.
    public var keysByVersion: [Int: Int]
    /// Objects without key material (destroyed).
    public var withoutMaterial: Int

    public init(keysByVersion: [Int: Int] = [:], withoutMaterial: Int = 0) {
        self.keysByVersion = keysByVersion
        self.withoutMaterial = withoutMaterial
    }

    /// Keys under a version older than `version`.
    public func olderThan(_ version: Int) -> Int {
        self.keysByVersion.lazy.filter { $0.key < version }.reduce(0) { $0 + $1.value }
    }

    /// Counts the tenant's keys, a page at a time.
    public static func count(
        _ store: any KeyStore,
        tenantID: String,
        pageSize: Int = 1_000
    ) async throws -> RootKeyCensus {
        var census = RootKeyCensus()
        var offset = 0
        while true {
            let page = try await store.objects(
                tenantID: tenantID,
                matching: ObjectQuery(offset: offset, limit: pageSize)
            )
            for object in page.objects {
                if let wrapped = object.wrappedKey {
                    census.keysByVersion[wrapped.rootKeyVersion, default: 0] += 1
                } else {
                    census.withoutMaterial += 1
                }
            }
            offset += page.objects.count
            if page.objects.count < pageSize || offset >= page.totalMatches { return census }
        }
    }
}
