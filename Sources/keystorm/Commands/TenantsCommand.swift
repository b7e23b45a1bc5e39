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

struct TenantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenants",
        abstract: "Create and list tenants (each has its own root key, clients and keys).",
        subcommands: [Create.self, List.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a tenant with a new root key, or with an existing one (--root-key-id)."
        )
        @OptionGroup var common: CommonOptions
        @Argument(help: "The tenant id: letters, digits, '-', '_', '.'.") var id: String
        @Option(help: "A display name.") var name: String?
        @Option(
            name: .customLong("root-key-id"),
            help: "Adopt this existing, active root key (e.g. a Key Protect key id) instead of creating one."
        )
        var rootKeyID: String?

        func run() async throws {
            try await CommandErrors.presenting {
                // The admin API creates tenants with a new root key only; adopting one opens the store here.
                if self.rootKeyID == nil, let api = await AdminAPIClient.running(self.common) {
                    return try await self.run(using: api)
                }
                let control = try await self.common.dataDirectory(self.common.resolver()).openControlPlane()
                let tenant = try await control.createTenant(id: self.id, displayName: self.name, rootKeyID: self.rootKeyID)
                print("created tenant \(tenant.id) (root key \(tenant.rootKey.provider):\(tenant.rootKey.keyID) v\(tenant.rootKey.version))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await CommandErrors.presenting {
                if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
                let directory = try self.common.dataDirectory(self.common.resolver())
                let store = try await directory.openExistingStore()
                let tenants = try await store.tenants()
                let rules = try await store.clients(tenantID: nil)
                print("TENANT\tROOT KEY\tVERSION\tCLIENT RULES\tNAME")
                for tenant in tenants {
                    let count = rules.filter { $0.tenantID == tenant.id }.count
                    print("\(tenant.id)\t\(tenant.rootKey.provider):\(tenant.rootKey.keyID)\t\(tenant.rootKey.version)\t\(count)\t\(tenant.displayName)")
                }
            }
        }
    }
}
