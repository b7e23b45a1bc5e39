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

/// Everything a store holds, as of one moment: what `keystorm backup` writes and `keystorm
/// restore` reads. Key material is in it only wrapped (as stored); shared values only as stored
/// (the Local provider's root keys sealed under the master key).
public struct StoreSnapshot: Hashable, Sendable {
    public var tenants: [Tenant]
    public var clients: [ClientRule]
    /// In insertion order, with their revisions and times.
    public var objects: [StoredObject]
    public var sharedValues: [String: [UInt8]]

    public init(
        tenants: [Tenant] = [],
        clients: [ClientRule] = [],
        objects: [StoredObject] = [],
        sharedValues: [String: [UInt8]] = [:]
    ) {
        self.tenants = tenants
        self.clients = clients
        self.objects = objects
        self.sharedValues = sharedValues
    }

    /// Checks what a store would otherwise only check on its way in: every tenant id follows
    /// ``NameRules`` (a tenant id becomes a directory name), so a crafted backup cannot bring in
    /// an id like `..`.
    ///
    /// - Throws: ``KeyStoreError/invalidName``.
    public func validate() throws {
        for tenant in self.tenants { try NameRules.validate(tenant.id, kind: "tenant id") }
    }

    /// Whether the store held nothing.
    public var isEmpty: Bool {
        self.tenants.isEmpty && self.clients.isEmpty && self.objects.isEmpty && self.sharedValues.isEmpty
    }
}
