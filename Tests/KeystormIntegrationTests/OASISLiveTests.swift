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
import KMIPModel
import KeystormTestSupport
import Testing

extension LiveServerTests {
    /// The OASIS profile test cases and the OVH test cases of ``OASISCatalog`` (the suites the
    /// in-process OASISConformanceTests runs) against `keystorm serve` over mutual TLS.
    ///
    /// One server per suite; each case runs as a tenant of its own with a client certificate
    /// issued by `keystorm clients issue`, so that it sees an empty store as it does in process
    /// (the cases of a chained suite share one tenant, in order). Excluded cases are not skipped
    /// silently: ``excludedCasesAreRefusedAsUnsupported()`` runs them and they must be refused.
    @Suite("OASIS conformance, live")
    struct OASISLiveTests {
        @Test(arguments: OASISCatalog.suites.map(\.label))
        func suite(_ label: String) async throws {
            let files = try #require(OASISCatalog.suites.first { $0.label == label }?.files)
            #expect(!files.isEmpty, "no test case files for \(label)")
            try await LiveServer.with { server in
                var passed = 0
                var inScope = 0
                var known = 0
                let excludedCount = files.filter { OASISCatalog.excluded[OASISCatalog.fileName($0)] != nil }.count
                var shared: KMIPTLSClient?
                for (index, file) in files.enumerated() {
                    let name = OASISCatalog.fileName(file)
                    if OASISCatalog.excluded[name] != nil { continue }
                    inScope += 1
                    let client: KMIPTLSClient
                    if let shared {
                        client = shared
                    } else {
                        client = try await Self.tenantClient(server, tenant: "case-\(index)")
                        if OASISCatalog.chained.contains(label) { shared = client }
                    }
                    let result = await Self.run(file, client: client)
                    if let reason = OASISCatalog.knownFailures[name] {
                        // Known failures are reported, not asserted: a live clock moves, so a case
                        // may pass here that cannot pass in process.
                        known += 1
                        print(
                            "OASIS live \(label) known failure \(name): \(result.passed ? "passes live" : "\(result)") -- \(reason)"
                        )
                    } else if result.passed {
                        passed += 1
                    } else {
                        Issue.record("\(label) \(file): \(result.difference.map(String.init(describing:)) ?? "")")
                        print("OASIS live \(label) \(result)")
                    }
                }
                print(
                    "OASIS live \(label): \(passed)/\(inScope - known) passed"
                        + (known > 0 ? ", \(known) known failure(s)" : "")
                        + (excludedCount > 0 ? " (\(excludedCount) excluded as out of scope)" : "")
                )
            }
        }

        @Test func excludedCasesAreRefusedAsUnsupported() async throws {
            let files = OASISCatalog.suites.flatMap(\.files)
            try await LiveServer.with { server in
                var refused = 0
                for (index, (name, reason)) in OASISCatalog.excluded.sorted(by: { $0.key < $1.key }).enumerated() {
                    let file = try #require(
                        files.first { OASISCatalog.fileName($0) == name },
                        "\(name) is not in any suite"
                    )
                    let client = try await Self.tenantClient(server, tenant: "excluded-\(index)")
                    let result = await Self.run(file, client: client, continueAfterDifference: true)
                    #expect(!result.passed, "\(name) passes: take it off the excluded list")
                    #expect(
                        result.failedAsUnsupported,
                        "\(name) (\(reason)) must fail with Operation/Feature Not Supported: \(result.difference.map(String.init(describing:)) ?? "")"
                    )
                    if result.failedAsUnsupported { refused += 1 }
                }
                print("OASIS live excluded: \(refused)/\(OASISCatalog.excluded.count) refused as unsupported")
            }
        }

        /// A new tenant with a client certificate of its own, once the server admits it.
        static func tenantClient(_ server: LiveServer, tenant: String) async throws -> KMIPTLSClient {
            try await server.createTenant(tenant)
            let (_, identity) = try await server.issueClient(tenant: tenant, name: tenant + "-client")
            let client = try server.client(identity)
            _ = try await retrying(timeout: .seconds(60), "tenant \(tenant)'s client admitted") { () -> Bool? in
                try await client.call(DiscoverVersionsRequest()).resultStatus == .success ? true : nil
            }
            return client
        }

        /// Runs one case over mutual TLS, one connection per request.
        static func run(
            _ file: String,
            client: KMIPTLSClient,
            continueAfterDifference: Bool = false
        ) async -> OASISResult {
            var runner = OASISRunner(timeTolerance: 60) { try await client.send($0) }
            runner.continueAfterDifference = continueAfterDifference
            return await runner.run(file: Fixtures.oasisDirectory + "/" + file)
        }
    }
}
