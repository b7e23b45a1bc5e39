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
import KMIPCodec
import KMIPModel
import KMIPServer
import KeyStore

/// Operator access to a tenant's keys. Revoke and Destroy run through the same KMIP operations a
/// client would use (same state rules, same audit log), as the client `operator`.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "List, revoke or destroy a tenant's keys.",
        subcommands: [List.self, Revoke.self, Destroy.self, Prewarm.self]
    )

    /// Runs one KMIP operation for `tenant` against the data directory.
    static func perform<P: KMIPRequestPayload>(_ payload: P, tenant: String, common: CommonOptions) async throws -> ResponseBatchItem {
        let directory = try common.dataDirectory(common.resolver())
        let (store, rootKeys) = try await directory.openExisting()
        guard try await store.tenant(id: tenant) != nil else { throw ValidationError("no tenant '\(tenant)'") }
        let core = KMIPServerCore(
            store: store,
            rootKeys: rootKeys,
            audit: try AuditLogFile(path: directory.auditPath),
            clock: { Int64(Date().timeIntervalSince1970) },
            makeIdentifier: { UUID().uuidString.lowercased() }
        )
        let request = RequestMessage(version: .v1_4, batchItems: [RequestBatchItem(payload)])
        let bytes = await BatchExecutor(core: core).process(request.encoded(), client: ClientIdentity(tenantID: tenant, fingerprint: "operator"))
        let response = try ResponseMessage(decoding: bytes)
        guard let item = response.batchItems.first else { throw ValidationError("no answer") }
        if item.resultStatus != .success {
            throw ValidationError("\(P.operation.name) failed: \(item.resultReason?.name ?? "?"): \(item.resultMessage ?? "")")
        }
        return item
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a tenant's keys.")
        @OptionGroup var common: CommonOptions
        @Option(help: "The tenant.") var tenant: String = "default"
        @Option(help: "At most this many, newest last.") var limit: Int = 1000

        func run() async throws {
            if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
            let directory = try self.common.dataDirectory(self.common.resolver())
            let (store, _) = try await directory.openExisting()
            let page = try await store.objects(tenantID: self.tenant, matching: ObjectQuery(limit: self.limit))
            print("UNIQUE IDENTIFIER\tTYPE\tSTATE\tROOT KEY VERSION\tCREATED\tNAMES")
            for object in page.objects {
                let created = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(object.createdAt)))
                print(
                    "\(object.uniqueIdentifier)\t\(ObjectType(rawValue: object.objectType).name)\t\(State(rawValue: object.state).name)\t"
                        + "\(object.wrappedKey.map { String($0.rootKeyVersion) } ?? "-")\t\(created)\t\(object.names.joined(separator: ","))"
                )
            }
            print("\(page.objects.count) of \(page.totalMatches)")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key: vSphere then sees it as not active (one disk's kill switch).")
        @OptionGroup var common: CommonOptions
        @Option(help: "The tenant.") var tenant: String = "default"
        @Argument(help: "The key's unique identifier.") var uid: String
        @Flag(help: "Revoke as compromised (Key Compromise) instead of deactivated.") var compromised = false

        func run() async throws {
            if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
            let reason = RevocationReason(code: self.compromised ? .keyCompromise : .cessationOfOperation, message: "revoked by operator")
            _ = try await KeysCommand.perform(RevokeRequest(uniqueIdentifier: .text(self.uid), revocationReason: reason), tenant: self.tenant, common: self.common)
            print("revoked \(self.uid)")
        }
    }

    struct Destroy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Destroy a key's material (revoke an Active key first).")
        @OptionGroup var common: CommonOptions
        @Option(help: "The tenant.") var tenant: String = "default"
        @Argument(help: "The key's unique identifier.") var uid: String

        func run() async throws {
            if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
            _ = try await KeysCommand.perform(DestroyRequest(uniqueIdentifier: .text(self.uid)), tenant: self.tenant, common: self.common)
            print("destroyed \(self.uid)")
        }
    }
}
