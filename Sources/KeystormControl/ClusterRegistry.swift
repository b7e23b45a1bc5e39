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
public import KeyStore

/// One `keystorm serve` of a store, as its last heartbeat described it.
public struct ClusterNode: Codable, Hashable, Sendable {
    public var id: String
    /// The KMIP listener, `host:port`.
    public var kmipAddress: String
    public var version: String
    /// Seconds since the epoch.
    public var startedAt: Int64
    public var heartbeatAt: Int64
    /// Keys held unwrapped in the node's cache at its last heartbeat.
    public var cachedKeys: Int

    public init(id: String, kmipAddress: String, version: String, startedAt: Int64, heartbeatAt: Int64, cachedKeys: Int)
    {
        self.id = id
        self.kmipAddress = kmipAddress
        self.version = version
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.cachedKeys = cachedKeys
    }
}

/// What `keystorm cluster status` and `GET /v1/cluster` show.
public struct ClusterStatus: Codable, Hashable, Sendable {
    public var store: StoreStatus
    /// Every node that sent a heartbeat within ``ClusterRegistry/forgetAfter``, by id.
    public var nodes: [ClusterNode]
    /// When this status was read (seconds since the epoch), to age the heartbeats.
    public var readAt: Int64

    public init(store: StoreStatus, nodes: [ClusterNode], readAt: Int64) {
        self.store = store
        self.nodes = nodes
        self.readAt = readAt
    }
}

/// The nodes of a shared store: each running server writes a heartbeat (a shared value
/// `node.<id>`) every ``interval``; the status lists those seen within ``forgetAfter``.
public enum ClusterRegistry {
    /// How often a node writes its heartbeat.
    public static let interval: Duration = .seconds(5)
    /// Heartbeats older than this are left out of the status (a node stopped or gone).
    public static let forgetAfter: Int64 = 24 * 3600
    static let prefix = "node."

    /// Writes `node`'s heartbeat.
    public static func beat(_ node: ClusterNode, store: any KeyStore) async throws {
        let value = Array(try JSONEncoder().encode(node))
        try await store.updateSharedValue(named: Self.prefix + node.id) { _ in (value, ()) }
    }

    /// The store's status and its nodes, most recent heartbeat first.
    public static func status(store: any KeyStore, now: Int64? = nil) async throws -> ClusterStatus {
        let now = now ?? Int64(Date().timeIntervalSince1970)
        let storeStatus = try await store.status()
        let nodes = try await store.sharedValues(prefix: Self.prefix).values
            .compactMap { try? JSONDecoder().decode(ClusterNode.self, from: Data($0)) }
            .filter { now - $0.heartbeatAt <= Self.forgetAfter }
            .sorted { ($0.heartbeatAt, $0.id) > ($1.heartbeatAt, $1.id) }
        return ClusterStatus(store: storeStatus, nodes: nodes, readAt: now)
    }
}
