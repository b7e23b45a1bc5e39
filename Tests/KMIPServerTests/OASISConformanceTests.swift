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

import KMIPServer
import KeystormTestSupport
import Testing

/// The OASIS profile test cases (Cosmian/kmip mirror) and the OVH KMIP 1.x Test Cases, run with
/// ``OASISRunner`` against an in-process server (real SQLite store, real Local root keys).
///
/// Every case of a suite is run; a failing case records an issue with its first difference, and
/// each suite prints its pass count. Cases outside Keystorm's scope are listed in
/// ``OASISConformanceTests/excluded`` with the reason, and are run too: they must fail where
/// Keystorm answers Operation Not Supported or Feature Not Supported (never a silent skip).
@Suite("OASIS conformance")
struct OASISConformanceTests {
    /// The suites, the cases outside Keystorm's scope and the known failures live in
    /// ``OASISCatalog``, shared with the live run over mutual TLS (KeystormIntegrationTests).
    static let suites = OASISCatalog.suites
    static let excluded = OASISCatalog.excluded
    static let knownFailures = OASISCatalog.knownFailures
    static let chained = OASISCatalog.chained
    /// Known failures that pass in process, where the server's clock can be moved: the seconds
    /// to move it before an exchange (TC-9.2 waits for its Deactivation Date, $NOW+120).
    static let clockPauses: [String: [Int: Int64]] = [
        "TC_92_11_Existing_Key_Expired_Re_key_with_Same_Life_cycle.xml": [4: 121]
    ]

    @Test(arguments: Self.suites.map(\.label))
    func suite(_ label: String) async throws {
        let files = try #require(Self.suites.first { $0.label == label }?.files)
        #expect(!files.isEmpty, "no test case files for \(label)")
        var passed = 0
        var inScope = 0
        let excludedCount = files.filter { Self.excluded[lastComponent($0)] != nil }.count
        let shared = Self.chained.contains(label) ? try await TestServer.make() : nil
        for file in files {
            let name = lastComponent(file)
            if Self.excluded[name] != nil { continue }
            inScope += 1
            let result = try await Self.run(file, on: shared)
            if let known = Self.knownFailures[name], Self.clockPauses[name] == nil {
                #expect(!result.passed, "\(name) passes: take it off the known failures")
                if !result.passed {
                    withKnownIssue("\(known)") { Issue.record("\(label) \(file): \(result.difference.map(String.init(describing:)) ?? "")") }
                    print("OASIS \(label) known failure \(result) -- \(known)")
                }
            } else if result.passed {
                passed += 1
                print("OASIS \(label) \(result)")
            } else {
                Issue.record("\(label) \(file): \(result.difference.map(String.init(describing:)) ?? "")")
                print("OASIS \(label) \(result)")
            }
        }
        print("OASIS \(label): \(passed)/\(inScope)" + (excludedCount > 0 ? " (\(excludedCount) excluded as out of scope)" : ""))
    }

    @Test func excludedCasesAreRefusedAsUnsupported() async throws {
        let files = Self.suites.flatMap(\.files)
        var refused = 0
        for (name, reason) in Self.excluded.sorted(by: { $0.key < $1.key }) {
            let file = try #require(files.first { lastComponent($0) == name }, "\(name) is not in any suite")
            let result = try await Self.run(file, continueAfterDifference: true)
            #expect(!result.passed, "\(name) passes: take it off the excluded list")
            #expect(
                result.failedAsUnsupported,
                "\(name) (\(reason)) must fail with Operation/Feature Not Supported: \(result.difference.map(String.init(describing:)) ?? "")"
            )
            if result.failedAsUnsupported { refused += 1 }
            print("OASIS excluded \(name): \(reason); refused as \(result.unsupported.first ?? "?")")
        }
        print("OASIS excluded: \(refused)/\(Self.excluded.count) refused as unsupported")
    }

    /// Runs one case on `server`, or on a new server.
    static func run(_ file: String, on server: TestServer? = nil, continueAfterDifference: Bool = false) async throws -> OASISResult {
        let target: TestServer
        if let server {
            target = server
        } else {
            target = try await TestServer.make()
        }
        var runner = OASISRunner(timeTolerance: 5, now: { target.clock.now }) { await target.send($0) }
        runner.continueAfterDifference = continueAfterDifference
        runner.pauses = Self.clockPauses[lastComponent(file)] ?? [:]
        runner.advanceClock = { target.advance(seconds: $0) }
        return await runner.run(file: Fixtures.oasisDirectory + "/" + file)
    }
}

/// The last path component of a `/`-separated path.
func lastComponent(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
}
