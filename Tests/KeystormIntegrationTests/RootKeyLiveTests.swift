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
import KMIPCodec
import KMIPModel
import KeystormTestSupport
import Testing

extension LiveServerTests {
    /// `keystorm root-key` against a running server: rotation re-wraps in the background and after
    /// a restart; deletion crypto-shreds, cached keys included.
    @Suite("Root keys, live")
    struct RootKeyLiveTests {
        /// The "keys per version" lines of `keystorm root-key status`.
        static func versions(_ server: LiveServer, tenant: String = "default") async throws -> [Int: Int] {
            let output = try await server.cli(["root-key", "status", "--tenant", tenant])
            var versions: [Int: Int] = [:]
            for line in output.split(separator: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard trimmed.hasPrefix("v"), let colon = trimmed.firstIndex(of: ":"),
                    let version = Int(trimmed[trimmed.index(after: trimmed.startIndex)..<colon]),
                    let count = Int(trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces))
                else { continue }
                versions[version] = count
            }
            return versions
        }

        @Test func rotationReWrapsEveryKeyWhileGetsGoOnAndResumesAfterARestart() async throws {
            try await LiveServer.with { server in
                let client = try server.client()
                var material: [UniqueIdentifier: [UInt8]] = [:]
                for _ in 0..<25 {
                    let uid = try await client.createKey()
                    let got = try await client.keyMaterial(uid)
                    let bytes: [UInt8] = try #require(got.material, "\(got.item.resultMessage ?? "")")
                    material[uid] = bytes
                }
                #expect(try await Self.versions(server) == [1: 25])

                // Rotate beside the running server: it re-wraps in the background.
                let rotated = try await server.cli(["root-key", "rotate", "--tenant", "default"])
                #expect(rotated.contains("to version 2"), "\(rotated)")
                _ = try await retrying(timeout: .seconds(120), "every key at version 2") { () -> Bool? in
                    for (uid, bytes) in material {
                        let got = try await client.keyMaterial(uid)
                        #expect(got.material == bytes, "Get during the re-wrap: \(got.item.resultMessage ?? "")")
                    }
                    return try await Self.versions(server) == [2: 25] ? true : nil
                }
                let status = try await server.cli(["root-key", "status", "--tenant", "default"])
                #expect(status.contains("current version: 2"), "\(status)")
                #expect(status.contains("re-wrap:         complete"), "\(status)")

                // Rotate while the server is down; the next start re-wraps from the store alone.
                await server.stop(removing: false)
                _ = try await server.cli(["root-key", "rotate", "--tenant", "default"])
                #expect(try await Self.versions(server) == [2: 25])
                try await server.launch()
                let restarted = try server.client()
                _ = try await retrying(timeout: .seconds(120), "every key at version 3 after the restart") {
                    () -> Bool? in
                    try await Self.versions(server) == [3: 25] ? true : nil
                }
                for (uid, bytes) in material {
                    #expect(try await restarted.keyMaterial(uid).material == bytes)
                }

                // --wait re-wraps in the CLI.
                let waited = try await server.cli(["root-key", "rotate", "--tenant", "default", "--wait"])
                #expect(waited.contains("every key of tenant default is at version 4"), "\(waited)")
                #expect(try await Self.versions(server) == [4: 25])
            }
        }

        @Test func deletingTheRootKeyShredsCachedAndUncachedKeysWithinThePollInterval() async throws {
            try await LiveServer.with { server in
                let client = try server.client()
                let cached = try await client.createKey()
                let uncached = try await client.createKey()
                // Twice: the second Get comes from the cache.
                let firstGet = try await client.keyMaterial(cached)
                let first = try #require(firstGet.material, "\(firstGet.item.resultMessage ?? "")")
                #expect(try await client.keyMaterial(cached).material == first)

                // Deleting asks for confirmation: without --yes and a wrong answer, nothing happens.
                let refused = try await Subprocess.run(
                    server.binary,
                    ["root-key", "delete", "--tenant", "default", "--data-dir", server.dataDirectory],
                    environment: LiveServer.environment()
                )
                #expect(!refused.succeeded)
                #expect(try await client.keyMaterial(cached).material == first)

                _ = try await server.cli(["root-key", "delete", "--tenant", "default", "--yes"])
                // The server notices within its poll interval (Local: 1 s); bounded wait for it.
                let item = try await retrying(timeout: .seconds(60), "the cached key refused") {
                    () -> ResponseBatchItem? in
                    let got = try await client.keyMaterial(cached)
                    return got.material == nil ? got.item : nil
                }
                expectFailure(item, .permissionDenied, "Get of a cached key after the shred")
                #expect(item.resultMessage == "root key of tenant default is deleted: key material is shredded")
                // From then on no Get returns material, cached or not.
                for uid in [cached, uncached, cached] {
                    let got = try await client.keyMaterial(uid)
                    #expect(got.material == nil)
                    expectFailure(got.item, .permissionDenied, "Get after the shred")
                    #expect(got.item.resultMessage == "root key of tenant default is deleted: key material is shredded")
                }
                let status = try await server.cli(["root-key", "status", "--tenant", "default"])
                #expect(status.contains("state:           deleted"), "\(status)")
                _ = try await retrying(timeout: .seconds(60), "the server logging the shred") { () -> Bool? in
                    server.serverLog.contains("the root key of tenant default is deleted") ? true : nil
                }
            }
        }

        @Test func prewarmRequestIsServedByTheRunningServer() async throws {
            try await LiveServer.with { server in
                let client = try server.client()
                for _ in 0..<5 { _ = try await client.createKey() }
                let output = try await server.cli(["keys", "prewarm", "--tenant", "default", "--recent", "3"])
                if output.contains("in the running server") {
                    // Through the admin API: done when the command returns.
                    #expect(output.contains("3 keys cached, 0 failed"), "\(output)")
                } else {
                    // Through the request file the server takes within a second.
                    _ = try await retrying(timeout: .seconds(60), "the server reporting the prewarm") { () -> Bool? in
                        server.serverLog.contains("prewarmed tenant default: 3 of 3 recent keys cached, 0 failed")
                            ? true : nil
                    }
                }
            }
        }
    }
}
