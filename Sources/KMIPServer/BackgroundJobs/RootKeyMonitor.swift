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

/// Watches every tenant's root key in its root-key service, so that a root key deleted or disabled
/// there (`keystorm root-key delete`, the Key Protect console, an HSM operator) stops serving keys
/// here too: the key cache forgets every key unwrapped under it, and later Gets of its tenant fail
/// at once with "root key of tenant T is deleted: key material is shredded" (or "... is disabled").
///
/// ``poll()`` asks the service for each tenant's root-key ``RootKeyInfo`` (`keystorm serve` runs it
/// every `root-keys.poll-interval`); ``observe(_:)`` takes infos a provider has without a remote
/// call (the Local provider after each 1 s refresh of its key file). A root key whose info cannot
/// be read keeps its last known state. A root key the service no longer knows counts as deleted.
///
/// A root key whose current version moved past the tenant's record (rotated in the service
/// directly) updates the record, which starts the re-wrap job for that tenant.
public final class RootKeyMonitor: Sendable {
    public let store: any KeyStore
    public let service: any RootKeyService
    public let keyAccess: KeyAccess?
    private let log: @Sendable (String) -> Void
    /// The last info seen per root key id.
    private let known = Mutex<[String: RootKeyInfo]>([:])
    /// The tenant of each root key id, as of the last poll (for the log).
    private let owners = Mutex<[String: String]>([:])

    /// - Parameters:
    ///   - store: Where the tenants are.
    ///   - service: The root-key service their root keys live in.
    ///   - keyAccess: The key cache and unwrap batcher to purge and gate; `nil` when there is none.
    ///   - log: Receives one line per change of a root key's state (never key material).
    public init(
        store: any KeyStore,
        service: any RootKeyService,
        keyAccess: KeyAccess?,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.store = store
        self.service = service
        self.keyAccess = keyAccess
        self.log = log
    }

    /// The state of `rootKeyID` as last seen; `nil` before it was seen.
    public func lastKnown(rootKeyID: String) -> RootKeyInfo? {
        self.known.withLock { $0[rootKeyID] }
    }

    /// Asks the service for the root key of every tenant it holds, then applies what changed.
    ///
    /// - Returns: The infos read in this poll.
    @discardableResult
    public func poll() async -> [RootKeyInfo] {
        let tenants: [Tenant]
        do {
            tenants = try await self.store.tenants()
        } catch {
            self.log("root-key monitor: reading the tenants failed: \(error)")
            return []
        }
        self.owners.withLock { owners in
            for tenant in tenants { owners[tenant.rootKey.keyID] = tenant.id }
        }
        var seen: [RootKeyInfo] = []
        for tenant in tenants where tenant.rootKey.provider == self.service.providerName {
            let info: RootKeyInfo
            do {
                info = try await self.service.info(rootKeyID: tenant.rootKey.keyID)
            } catch RootKeyError.notFound {
                info = RootKeyInfo(
                    keyID: tenant.rootKey.keyID,
                    label: "",
                    state: .deleted,
                    currentVersion: tenant.rootKey.version
                )
            } catch {
                self.log("root-key monitor: the root key of tenant \(tenant.id) could not be read: \(error)")
                continue
            }
            seen.append(info)
            if info.state == .active && info.currentVersion > tenant.rootKey.version {
                await self.follow(tenant, to: info.currentVersion)
            }
        }
        self.observe(seen)
        return seen
    }

    /// Applies root-key infos: from ``poll()``, or obtained without a remote call (the Local
    /// provider's, after each refresh).
    public func observe(_ infos: [RootKeyInfo]) {
        let changes = self.known.withLock { known -> [(RootKeyInfo, RootKeyState?)] in
            var changes: [(RootKeyInfo, RootKeyState?)] = []
            for info in infos {
                let previous = known[info.keyID]?.state
                if previous != info.state { changes.append((info, previous)) }
                known[info.keyID] = info
            }
            return changes
        }
        var purged = 0
        if let keyAccess = self.keyAccess {
            let before = keyAccess.cache.statistics.purged
            keyAccess.purgeInactive(self.known.withLock { Array($0.values) })
            purged = keyAccess.cache.statistics.purged - before
        }
        for (info, previous) in changes where previous != nil || info.state != .active {
            let owner =
                self.owners.withLock { $0[info.keyID] }.map { "the root key of tenant \($0)" }
                ?? "root key \(info.keyID)"
            switch info.state {
            case .deleted:
                self.log("\(owner) is deleted: its keys are shredded; \(purged) cached keys purged")
            case .disabled:
                self.log("\(owner) is disabled: its keys are refused until it is enabled; \(purged) cached keys purged")
            case .active:
                self.log("\(owner) is active again")
            }
        }
    }

    /// Records a rotation made in the service directly, so that the re-wrap job follows it.
    private func follow(_ tenant: Tenant, to version: Int) async {
        do {
            guard var current = try await self.store.tenant(id: tenant.id),
                current.rootKey.keyID == tenant.rootKey.keyID,
                current.rootKey.version < version
            else { return }
            current.rootKey.version = version
            try await self.store.updateTenant(current)
            self.log(
                "the root key of tenant \(tenant.id) is at version \(version) in the root-key service; re-wrapping its keys"
            )
        } catch {
            self.log("root-key monitor: recording version \(version) of tenant \(tenant.id) failed: \(error)")
        }
    }
}
