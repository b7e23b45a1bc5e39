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

/// What a store says about itself for `keystorm cluster status`: where it is, whether it takes
/// writes, and (PostgreSQL) the standbys that replicate it.
public struct StoreStatus: Codable, Hashable, Sendable {
    /// A standby of a PostgreSQL primary, as `pg_stat_replication` shows it.
    public struct Standby: Codable, Hashable, Sendable {
        public var name: String
        public var address: String?
        /// `streaming`, `catchup`, ...
        public var state: String
        /// `sync`, `async`, `potential`, `quorum`.
        public var syncState: String
        /// How far behind the standby has applied, when PostgreSQL measured it.
        public var replayLagSeconds: Double?

        public init(name: String, address: String?, state: String, syncState: String, replayLagSeconds: Double?) {
            self.name = name
            self.address = address
            self.state = state
            self.syncState = syncState
            self.replayLagSeconds = replayLagSeconds
        }
    }

    /// `sqlite` or `postgresql`.
    public var kind: String
    /// The file, or the database URL without its password.
    public var location: String
    /// `file`, `primary` or `standby` (read-only).
    public var role: String
    /// The server's version (PostgreSQL) or the library's (SQLite).
    public var version: String
    public var standbys: [Standby]

    public init(kind: String, location: String, role: String, version: String, standbys: [Standby] = []) {
        self.kind = kind
        self.location = location
        self.role = role
        self.version = version
        self.standbys = standbys
    }
}
