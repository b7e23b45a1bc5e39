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

#if canImport(Glibc)
import Glibc
#endif

/// `keystorm`: the KMIP key server for vSphere and vSAN, and its operator commands.
@main
struct Keystorm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keystorm",
        abstract: "A KMIP key server for VMware vSphere and vSAN encryption.",
        discussion: """
            'keystorm serve' starts the server; on first start it creates the data directory with its
            store, root key, certificates and a default tenant, and logs how to connect vCenter.
            The other commands manage tenants, the clients they trust and their keys.
            """,
        version: KeystormVersion.text,
        subcommands: [
            ServeCommand.self, TenantsCommand.self, ClientsCommand.self, KeysCommand.self, RootKeyCommand.self,
            BackupCommand.self, RestoreCommand.self, ClusterCommand.self,
        ],
        defaultSubcommand: nil
    )

    static func main() async {
        // Everything Keystorm creates is the operator's alone unless a file says otherwise
        // (certificates are made 0644 explicitly): a permissive umask of the shell that
        // started the server never widens the store, its WAL, keys or the audit log.
        umask(0o077)
        do {
            var command = try Self.parseAsRoot(nil)
            // Once, before anything logs: every logger of the process, Keystorm's and the
            // libraries', writes through it (JSON lines by default).
            try LogSettings.of(command).bootstrap()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            Self.exit(withError: error)
        }
    }
}

/// The options every command shares.
struct CommonOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "The data directory (config key data-dir, env KEYSTORM_DATA_DIR). Default: ./keystorm-data"
    )
    var dataDir: String?

    @Option(name: .long, help: "A configuration file (env KEYSTORM_CONFIG).")
    var config: String?

    func resolver() throws -> SettingsResolver {
        try SettingsResolver(configPath: self.config)
    }

    func dataDirectory(_ resolver: SettingsResolver) -> DataDirectory {
        DataDirectory(
            path: resolver.string("data-dir", flag: self.dataDir, default: "./keystorm-data"),
            settings: resolver
        )
    }
}

/// This build's version, as `keystorm --version` and `keystorm cluster status` show it.
enum KeystormVersion {
    static let text = "0.9.0"
}
