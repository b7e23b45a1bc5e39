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
import KeystormControl
import RootKeys

/// `keystorm root-key`: a tenant's root key in its root-key service.
struct RootKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "root-key",
        abstract: "Show, rotate or delete (crypto-shred) a tenant's root key.",
        subcommands: [Status.self, Rotate.self, Delete.self]
    )

    /// The control plane over the data directory, and the settings.
    static func open(_ common: CommonOptions) async throws -> (ControlPlane, SettingsResolver) {
        let settings = try common.resolver()
        return (try await common.dataDirectory(settings).openControlPlane(), settings)
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
            try await CommandErrors.presenting {
                if let api = await AdminAPIClient.running(self.common) {
                    try await self.run(using: api)
                    // The store is safe to read beside the server: add the keys per version.
                    let store = try await self.common.dataDirectory(try self.common.resolver()).openExistingStore()
                    Self.printVersions(try await RootKeyCensus.count(store, tenantID: self.tenant))
                    return
                }
                let (control, _) = try await RootKeyCommand.open(self.common)
                let status = try await control.rootKeyStatus(tenant: self.tenant)
                print("tenant:          \(status.tenant)")
                print("provider:        \(status.provider)")
                print("root key:        \(status.keyID)")
                print("state:           \(status.state.rawValue)")
                let recorded =
                    status.currentVersion != status.recordedVersion ? " (tenant record: \(status.recordedVersion))" : ""
                print("current version: \(status.currentVersion)\(recorded)")
                Self.printVersions(status.census)
                let total = status.census.keysByVersion.values.reduce(0, +)
                let remaining = status.keysOnOlderVersions
                print(
                    "re-wrap:         \(remaining == 0 ? "complete" : "\(total - remaining) of \(total) keys at v\(status.recordedVersion), \(remaining) to go")"
                )
            }
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
            try await CommandErrors.presenting {
                if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
                let (control, settings) = try await RootKeyCommand.open(self.common)
                let status = try await control.rotateRootKey(tenant: self.tenant)
                print(
                    "rotated the root key of tenant \(status.tenant) to version \(status.recordedVersion); \(status.keysOnOlderVersions) keys to re-wrap"
                )
                guard self.wait else {
                    print(
                        "a running 'keystorm serve' re-wraps them in the background; 'keystorm root-key status --tenant \(status.tenant)' shows progress"
                    )
                    return
                }
                try await self.rewrap(control, settings: settings)
            }
        }

        /// Re-wraps every key of the tenant here; a server running beside may move some first
        /// (conflicts are retried).
        private func rewrap(_ control: ControlPlane, settings: SettingsResolver) async throws {
            let rewrapper = RootKeyRewrapper(
                store: control.store,
                service: control.rootKeys,
                configuration: try RootKeyCommand.rewrapConfiguration(settings),
                log: { Log.info($0) }
            )
            for _ in 0..<100 {
                let tenant = try await control.tenant(self.tenant)
                _ = try await rewrapper.rewrap(tenant: tenant)
                let left = try await control.rootKeyStatus(tenant: tenant.id).keysOnOlderVersions
                if left == 0 {
                    print("every key of tenant \(tenant.id) is at version \(tenant.rootKey.version)")
                    return
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            throw ControlError(
                .internalError,
                "some keys of tenant \(self.tenant) could not be re-wrapped; see the log above and run 'keystorm root-key status'"
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
            try await CommandErrors.presenting {
                if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
                let (control, _) = try await RootKeyCommand.open(self.common)
                let tenant = try await control.servedTenant(self.tenant)
                if !self.yes {
                    print(
                        "This destroys the root key of tenant '\(tenant.id)': every key of the tenant becomes unrecoverable."
                    )
                    FileHandle.standardOutput.write(Data("Type the tenant id to confirm: ".utf8))
                    guard let answer = readLine(), answer.trimmingCharacters(in: .whitespaces) == tenant.id else {
                        throw ControlError(
                            .badRequest,
                            "not confirmed; nothing was deleted (pass --yes to skip the question)"
                        )
                    }
                }
                let status = try await control.deleteRootKey(tenant: tenant.id)
                print("deleted root key \(status.keyID) of tenant \(status.tenant): its keys are crypto-shredded")
            }
        }
    }
}
