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
import KeystormTestSupport
import Testing

extension LiveServerTests {
    /// PyKMIP's ProxyKmipClient against the live server (Tests/Scripts/pykmip_lifecycle.py), with
    /// the interpreter of a venv holding PyKMIP in `KEYSTORM_PYKMIP_PYTHON` (.ci/run makes one).
    @Suite("PyKMIP, live")
    struct PyKMIPLiveTests {
        static let python = ProcessInfo.processInfo.environment["KEYSTORM_PYKMIP_PYTHON"].flatMap {
            $0.isEmpty ? nil : $0
        }
        static let script = Fixtures.packageRoot + "/Tests/Scripts/pykmip_lifecycle.py"

        @Test(.enabled(if: Self.python != nil, "skipped: KEYSTORM_PYKMIP_PYTHON not set"))
        func lifecycleAndARefusedStranger() async throws {
            let python = try #require(Self.python)
            try await LiveServer.with { server in
                let common = [
                    "-W", "ignore::DeprecationWarning", Self.script, "--port", String(server.port), "--ca",
                    server.serverCA,
                ]
                let lifecycle = try await Subprocess.run(
                    python,
                    common + ["--cert", server.testClientCertificate, "--key", server.testClientKey],
                    timeout: .seconds(180)
                )
                #expect(lifecycle.succeeded, "PyKMIP lifecycle failed (\(lifecycle.status)):\n\(lifecycle.output)")
                print("PyKMIP lifecycle:\n\(lifecycle.output)")

                // A certificate from a throwaway CA that is not on the allow-list: refused in the
                // handshake, with TLS 1.2 (PyKMIP's open() fails) and with the default (TLS 1.3).
                let stranger = try await ThrowawayPKI.makeClient(in: server.root + "/stranger")
                for version in ["PROTOCOL_TLSv1_2", "PROTOCOL_TLS"] {
                    let refused = try await Subprocess.run(
                        python,
                        common + [
                            "--cert", stranger.certificate, "--key", stranger.key, "--ssl-version", version,
                            "--expect-refused",
                        ],
                        timeout: .seconds(180)
                    )
                    #expect(refused.succeeded, "PyKMIP with a stranger's certificate (\(version)):\n\(refused.output)")
                    if version == "PROTOCOL_TLSv1_2" {
                        #expect(refused.output.contains("refused at the handshake"), "\(refused.output)")
                    }
                    print("PyKMIP stranger (\(version)): \(refused.output)")
                }
            }
        }
    }
}
