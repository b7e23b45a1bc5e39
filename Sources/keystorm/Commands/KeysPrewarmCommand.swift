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
import KeyStore
import KeystormControl

extension KeysCommand {
    /// `keystorm keys prewarm`: asks the running server to fill its key cache with a tenant's most
    /// recent keys. The cache lives in the server's process: the request goes through the admin
    /// API, or, with the admin API off, through a file in the data directory that the server takes
    /// within its refresh interval (and the next server start takes if none runs).
    struct Prewarm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Have the running server cache a tenant's most recent keys before a boot storm.",
            discussion: """
                The running 'keystorm serve' on this data directory takes the request through its
                admin API (with the admin API off: from a request file, within its refresh interval)
                and unwraps the keys through its unwrap batcher, so the rate limit holds; its log
                says when it is done. With no server running, the next start does it. To prewarm
                every tenant at each start, set cache.prewarm.
                """
        )
        @OptionGroup var common: CommonOptions
        @Option(help: "The tenant.") var tenant: String = "default"
        @Option(help: "How many of the most recently created keys.") var recent: Int = 1000

        func validate() throws {
            guard self.recent > 0 else { throw ValidationError("--recent must be at least 1") }
        }

        func run() async throws {
            try await CommandErrors.presenting {
                if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
                let directory = self.common.dataDirectory(try self.common.resolver())
                let store = try await directory.openExistingStore()
                guard try await store.tenant(id: self.tenant) != nil else {
                    throw ControlError(.notFound, "no tenant '\(self.tenant)'; see 'keystorm tenants list'")
                }
                do {
                    try await directory.requestPrewarm(tenant: self.tenant, recent: self.recent)
                } catch {
                    throw ControlError.classifying(
                        error,
                        operation: "writing a prewarm request into \(directory.prewarmDirectory)"
                    )
                }
                print(
                    "asked the server to prewarm the \(self.recent) most recent keys of tenant \(self.tenant); its log reports the result"
                )
            }
        }
    }
}
