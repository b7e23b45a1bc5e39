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

import ArgumentParser
import Foundation
import KeyStore
import KeystormControl
import NIOHTTP1

/// `keystorm cluster status`: the store and the nodes that share it.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "The nodes sharing this store.",
        subcommands: [Status.self]
    )

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The store (role, version, replication) and every node with its last heartbeat and cached keys.",
            discussion: """
                Nodes that share a PostgreSQL store write a heartbeat every 5 seconds; a node not heard
                from for 15 seconds is shown as "silent". With the SQLite store there is one node and no
                heartbeat. Asks the running server's admin API when there is one, else reads the store.
                """
        )

        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await CommandErrors.presenting {
                let status: ClusterStatus
                if let api = await AdminAPIClient.running(self.common) {
                    status = try await api.call(.GET, "/v1/cluster", as: ClusterStatus.self)
                } else {
                    let directory = try self.common.dataDirectory(self.common.resolver())
                    let store = try await directory.openExistingStore()
                    status = try await ClusterRegistry.status(store: store)
                }
                print(Self.render(status), terminator: "")
            }
        }

        static func render(_ status: ClusterStatus) -> String {
            var text =
                "store:    \(status.store.kind) \(status.store.location) (\(status.store.role), \(status.store.version))\n"
            for standby in status.store.standbys {
                let lag = standby.replayLagSeconds.map { String(format: "%.3f s", $0) } ?? "not measured"
                text +=
                    "standby:  \(standby.name) \(standby.address ?? "") \(standby.state) \(standby.syncState), replay lag \(lag)\n"
            }
            if status.nodes.isEmpty {
                text += "nodes:    none with a heartbeat (one node on SQLite writes none)\n"
                return text
            }
            text += "NODE\tKMIP\tVERSION\tLAST HEARTBEAT\tCACHED KEYS\n"
            for node in status.nodes {
                let age = max(0, status.readAt - node.heartbeatAt)
                let seen = age > 15 ? "\(age) s ago (silent)" : "\(age) s ago"
                text += "\(node.id)\t\(node.kmipAddress)\t\(node.version)\t\(seen)\t\(node.cachedKeys)\n"
            }
            return text
        }
    }
}
