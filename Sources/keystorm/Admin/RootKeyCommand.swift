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
import KMIPServer
import KeyStore
import RootKeys

/// `keystorm root-key`: a tenant's root key in its root-key service.
struct RootKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "root-key",
        abstract: "Show, rotate or delete (crypto-shred) a tenant's root key.",
        subcommands: [Status.self, Rotate.self, Delete.self]
    )

    /// The store, the provider and the tenant.
    static func open(
        _ common: CommonOptions,
        tenant: String
    ) async throws -> (any KeyStore, RootKeyProvider, Tenant, SettingsResolver) {
        let settings = try common.resolver()
        let directory = common.dataDirectory(settings)
        let (store, provider) = try await directory.openExistingProvider()
        guard let record = try await store.tenant(id: tenant) else {
            throw ValidationError("no tenant '\(tenant)'; see 'keystorm tenants list'")
        }
        guard record.rootKey.provider == provider.service.providerName else {
            throw ValidationError(
                "the root key of tenant '\(tenant)' is in the \(record.rootKey.provider) service, but root-keys is \(provider.service.providerName)"
            )
        }
        return (store, provider, record, settings)
    }

    /// The `rewrap.rate` setting: re-wraps per second (default 50).
    static func rewrapConfiguration(_ settings: SettingsResolver) throws -> RootKeyRewrapper.Configuration {
        guard let text = settings.string("rewrap.rate", flag: nil) else { return RootKeyRewrapper.Configuration() }
        guard let rate = Double(text), rate > 0, rate.isFinite else {
            throw SettingsError("'rewrap.rate' must be a positive number of re-wraps per second, not '\(text)'")
        }
        return RootKeyRewrapper.Configuration(rate: rate)
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Show a tenant's root key: provider, id, state, current version, keys per version, re-wrap progress."
        )
        @OptionGroup var common: CommonOptions
        @Option(help: "The tenant.") var tenant: String = "default"

        func run() async throws {
            if let api = await AdminAPIClient.running(self.common) {
                try await self.run(using: api)
                // The store is safe to read beside the server: add the keys per version.
                let store = try self.common.dataDirectory(try self.common.resolver()).openExistingStore()
                Self.printVersions(try await RootKeyCensus.count(store, tenantID: self.tenant))
                return
            }
            let (store, provider, tenant, _) = try await RootKeyCommand.open(self.common, tenant: self.tenant)
            let service = provider.service
            print("tenant:          \(tenant.id)")
            print("provider:        \(service.providerName)")
            print("root key:        \(tenant.rootKey.keyID)")
            do {
                let info = try await service.info(rootKeyID: tenant.rootKey.keyID)
                print("state:           \(info.state.rawValue)")
                print(
                    "current version: \(info.currentVersion)\(info.currentVersion != tenant.rootKey.version ? " (tenant record: \(tenant.rootKey.version))" : "")"
                )
            } catch RootKeyError.notFound {
                print("state:           deleted (the root-key service does not know it)")
                print("current version: \(tenant.rootKey.version) (tenant record)")
            }
            let census = try await RootKeyCensus.count(store, tenantID: tenant.id)
            Self.printVersions(census)
            let total = census.keysByVersion.values.reduce(0, +)
            let remaining = census.olderThan(tenant.rootKey.version)
            print(
                "re-wrap:         \(remaining == 0 ? "complete" : "\(total - remaining) of \(total) keys at v\(tenant.rootKey.version), \(remaining) to go")"
            )
        }

        static func printVersions(_ census: RootKeyCensus) {
            print("keys per version:")
            for (version, count) in census.keysByVersion.sorted(by: { $0.key < $1.key }) {
                print("  v\(version): \(count)")
            }
            if census.keysByVersion.isEmpty { print("  (no keys with material)") }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new root-key version current and re-wrap every key of the tenant to it.",
            discussion: """
                The running server re-wraps the tenant's keys in the background (rewrap.rate per
                second, default 50), and goes on after a restart; keys stay readable throughout.
                --wait re-wraps here and returns when every key is at the new version.
                """
        )
        @OptionGroup var common: CommonOptions
        @Option(help: "The tenant.") var tenant: String = "default"
        @Flag(help: "Re-wrap every key now, in this process, and wait for it.") var wait = false

        func run() async throws {
            if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
            let (store, provider, tenant, settings) = try await RootKeyCommand.open(self.common, tenant: self.tenant)
            let handle = try await provider.service.rotate(rootKeyID: tenant.rootKey.keyID)
            var updated = try await store.tenant(id: tenant.id) ?? tenant
            updated.rootKey.version = max(updated.rootKey.version, handle.version)
            try await store.updateTenant(updated)
            let remaining = try await RootKeyCensus.count(store, tenantID: tenant.id).olderThan(updated.rootKey.version)
            print(
                "rotated the root key of tenant \(tenant.id) to version \(updated.rootKey.version); \(remaining) keys to re-wrap"
            )
            guard self.wait else {
                print(
                    "a running 'keystorm serve' re-wraps them in the background; 'keystorm root-key status --tenant \(tenant.id)' shows progress"
                )
                return
            }
            let rewrapper = RootKeyRewrapper(
                store: store,
                service: provider.service,
                configuration: try RootKeyCommand.rewrapConfiguration(settings),
                log: { Log.info($0) }
            )
            // A server running beside may move some keys first; conflicts are retried.
            for _ in 0..<100 {
                _ = try await rewrapper.rewrap(tenant: updated)
                let left = try await RootKeyCensus.count(store, tenantID: tenant.id).olderThan(updated.rootKey.version)
                if left == 0 {
                    print("every key of tenant \(tenant.id) is at version \(updated.rootKey.version)")
                    return
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            throw ValidationError(
                "some keys of tenant \(tenant.id) could not be re-wrapped; see the log above and run 'keystorm root-key status'"
            )
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a tenant's root key: crypto-shreds every key of the tenant, irreversibly.",
            discussion: """
                The root key is destroyed in its root-key service; every key wrapped under it becomes
                unrecoverable. A running server refuses the tenant's keys, cached ones included,
                within its poll interval (Local: 1 s; others: root-keys.poll-interval).
                """
        )
        @OptionGroup var common: CommonOptions
        @Option(help: "The tenant.") var tenant: String
        @Flag(help: "Do not ask for confirmation.") var yes = false

        func run() async throws {
            if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
            let (_, provider, tenant, _) = try await RootKeyCommand.open(self.common, tenant: self.tenant)
            if !self.yes {
                print(
                    "This destroys the root key of tenant '\(tenant.id)': every key of the tenant becomes unrecoverable."
                )
                FileHandle.standardOutput.write(Data("Type the tenant id to confirm: ".utf8))
                guard let answer = readLine(), answer.trimmingCharacters(in: .whitespaces) == tenant.id else {
                    throw ValidationError("not confirmed; nothing was deleted (pass --yes to skip the question)")
                }
            }
            try await provider.service.delete(rootKeyID: tenant.rootKey.keyID)
            print("deleted root key \(tenant.rootKey.keyID) of tenant \(tenant.id): its keys are crypto-shredded")
        }
    }
}
