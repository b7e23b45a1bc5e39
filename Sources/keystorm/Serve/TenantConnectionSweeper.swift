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

import KMIPServer
import KeyStore
import RootKeys
import Synchronization

/// Closes the open connections of tenants that were removed, and of tenants whose root key became
/// deleted or disabled (crypto-shredded), after each reload of the tenants.
///
/// Removed client rules close their connections in ``TrustState``; this covers what the tenant
/// and its root key decide. A tenant whose root key is already inactive when its client connects
/// is served (its Gets fail with a clear KMIP error); only the change closes connections.
final class TenantConnectionSweeper: Sendable {
    private let connections: ClientConnectionRegistry
    private let monitor: RootKeyMonitor
    /// Tenants whose root key was inactive at the last sweep.
    private let inactive = Mutex<Set<String>?>(nil)

    init(connections: ClientConnectionRegistry, monitor: RootKeyMonitor) {
        self.connections = connections
        self.monitor = monitor
    }

    /// Closes the connections of tenants not in `tenants`, and of tenants whose root key turned
    /// inactive since the last sweep.
    /// - Parameter tenants: Every tenant, as just read from the store.
    func sweep(_ tenants: [Tenant]) {
        let removed = self.connections.closeConnections(notOfTenants: Set(tenants.map(\.id)))
        if removed > 0 { Log.info("closed \(removed) connection(s) of removed tenants") }
        let nowInactive = Set(
            tenants.filter { tenant in
                guard let info = self.monitor.lastKnown(rootKeyID: tenant.rootKey.keyID) else { return false }
                return info.state != .active
            }.map(\.id)
        )
        let fresh = self.inactive.withLock { inactive -> Set<String> in
            defer { inactive = nowInactive }
            return nowInactive.subtracting(inactive ?? [])
        }
        let closed = self.connections.closeConnections(ofTenants: fresh)
        if closed > 0 {
            Log.info(
                "closed \(closed) connection(s) of tenant(s) whose root key is deleted or disabled: \(fresh.sorted().joined(separator: ", "))"
            )
        }
    }
}
