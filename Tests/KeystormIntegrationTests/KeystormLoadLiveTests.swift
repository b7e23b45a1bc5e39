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
import Testing

extension LiveServerTests {
    /// The built `keystorm-load` binary against the live server: a small boot storm, once over
    /// persistent connections (creating the keys) and once with a connection per Get (reusing them).
    @Suite("keystorm-load, live")
    struct KeystormLoadLiveTests {
        /// `KEYSTORM_LOAD_BINARY`, else `keystorm-load` beside the `keystorm` binary.
        static func loadBinary() throws -> String {
            if let path = ProcessInfo.processInfo.environment["KEYSTORM_LOAD_BINARY"], !path.isEmpty { return path }
            let keystorm = URL(fileURLWithPath: try LiveServer.locateBinary())
            let path = keystorm.deletingLastPathComponent().appendingPathComponent("keystorm-load").path
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw LiveTestFailure(
                    "keystorm-load is not beside \(keystorm.path); build it or set KEYSTORM_LOAD_BINARY"
                )
            }
            return path
        }

        @Test func smallBootstormHasNoErrorsAndTheRightCounts() async throws {
            let load = try Self.loadBinary()
            try await LiveServer.with { server in
                let uids = server.root + "/uids.txt"
                for perOperation in [false, true] {
                    let name = perOperation ? "per-op" : "persistent"
                    let json = server.root + "/bootstorm-\(name).json"
                    let svg = server.root + "/bootstorm-\(name).svg"
                    let markdown = server.root + "/bootstorm-\(name).md"
                    var arguments = [
                        "bootstorm", "--target", "127.0.0.1:\(server.port)", "--ca", server.serverCA,
                        "--cert", server.testClientCertificate, "--key", server.testClientKey,
                        "--hosts", "5", "--keys-per-host", "4", "--uids-file", uids,
                        "--json", json, "--svg", svg, "--markdown", markdown, "--timeout", "60",
                    ]
                    if perOperation { arguments.append("--connection-per-op") }
                    let outcome = try await Subprocess.run(load, arguments, timeout: .seconds(300))
                    #expect(
                        outcome.succeeded,
                        "keystorm-load \(name) exited with \(outcome.status):\n\(outcome.output)"
                    )

                    let data = try Data(contentsOf: URL(fileURLWithPath: json))
                    let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
                    #expect(report["scenario"] as? String == "bootstorm")
                    #expect(report["operations"] as? Int == 20, "\(name)")
                    #expect(report["succeeded"] as? Int == 20, "\(name)")
                    #expect(report["failed"] as? Int == 0, "\(name)")
                    #expect((report["errors"] as? [String: Any])?.isEmpty == true, "\(name): \(report["errors"] ?? "")")
                    // Persistent: one connection per host; otherwise one per Get.
                    #expect(report["connections"] as? Int == (perOperation ? 20 : 5), "\(name)")
                    let setup = try #require(report["setup"] as? [String: Any])
                    #expect(setup["keys"] as? Int == 20)
                    #expect(setup["created"] as? Int == (perOperation ? 0 : 20), "\(name)")
                    #expect(setup["reused"] as? Int == (perOperation ? 20 : 0), "\(name)")
                    let latency = try #require(report["latency"] as? [String: [String: Any]])
                    #expect(latency["total"]?["count"] as? Int == 20)
                    #expect(latency["handshake"]?["count"] as? Int == (perOperation ? 20 : 5))
                    let timeline = try #require(report["timeline"] as? [[String: Any]])
                    #expect(timeline.reduce(0) { $0 + ($1["operations"] as? Int ?? 0) } == 20)
                    #expect(try String(contentsOfFile: svg, encoding: .utf8).hasPrefix("<svg"))
                    #expect(try String(contentsOfFile: markdown, encoding: .utf8).contains("| 20 | 20 | 0 |"))
                }
                // The uids file holds the twenty distinct keys of the setup.
                let keys = try String(contentsOfFile: uids, encoding: .utf8).split(separator: "\n")
                #expect(Set(keys).count == 20)
            }
        }
    }
}
