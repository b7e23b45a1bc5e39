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

/// Operator access to a tenant's keys. Revoke and Destroy run through the same KMIP operations a
/// client would use (same state rules, same audit log), as the client `operator`.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "List, revoke or destroy a tenant's keys.",
        subcommands: [List.self, Revoke.self, Destroy.self, Prewarm.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a tenant's keys (Shredded: the tenant's root key is deleted)."
        )
        @OptionGroup var common: CommonOptions
        @Option(help: "The tenant.") var tenant: String = "default"
        @Option(help: "At most this many, newest last.") var limit: Int = 1000

        func run() async throws {
            try await CommandErrors.presenting {
                if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
                let control = try await self.common.dataDirectory(self.common.resolver()).openControlPlane()
                let listing = try await control.keys(tenant: self.tenant, limit: self.limit)
                KeysCommand.printTable(
                    listing.keys.map {
                        ($0.uniqueIdentifier, $0.objectType, $0.state, $0.rootKeyVersion, $0.createdAt, $0.names)
                    },
                    total: listing.total
                )
            }
        }
    }

    /// Prints keys as the table `keys list` shows, from the store or the admin API.
    static func printTable(
        _ keys: [(uid: String, type: String, state: String, version: Int?, created: Int64, names: [String])],
        total: Int
    ) {
        print("UNIQUE IDENTIFIER\tTYPE\tSTATE\tROOT KEY VERSION\tCREATED\tNAMES")
        let formatter = ISO8601DateFormatter()
        for key in keys {
            let created = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(key.created)))
            let version = key.version.map(String.init) ?? "-"
            print("\(key.uid)\t\(key.type)\t\(key.state)\t\(version)\t\(created)\t\(key.names.joined(separator: ","))")
        }
        print("\(keys.count) of \(total)")
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key: vSphere then sees it as not active (one disk's kill switch).")
        @OptionGroup var common: CommonOptions
        @Option(help: "The tenant.") var tenant: String = "default"
        @Argument(help: "The key's unique identifier.") var uid: String
        @Flag(help: "Revoke as compromised (Key Compromise) instead of deactivated.") var compromised = false

        func run() async throws {
            try await CommandErrors.presenting {
                if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
                let control = try await self.common.dataDirectory(self.common.resolver()).openControlPlane()
                try await control.revokeKey(tenant: self.tenant, uniqueIdentifier: self.uid, compromised: self.compromised)
                print("revoked \(self.uid)")
            }
        }
    }

    struct Destroy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Destroy a key's material (revoke an Active key first).")
        @OptionGroup var common: CommonOptions
        @Option(help: "The tenant.") var tenant: String = "default"
        @Argument(help: "The key's unique identifier.") var uid: String

        func run() async throws {
            try await CommandErrors.presenting {
                if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
                let control = try await self.common.dataDirectory(self.common.resolver()).openControlPlane()
                try await control.destroyKey(tenant: self.tenant, uniqueIdentifier: self.uid)
                print("destroyed \(self.uid)")
            }
        }
    }
}
