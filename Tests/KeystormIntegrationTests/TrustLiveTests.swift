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
    /// Only clients on the allow-list get past the TLS handshake; refusing others does not stop
    /// the server from serving the rest.
    @Suite("Client certificates, live")
    struct TrustLiveTests {
        @Test func strangersAndAnonymousClientsFailTheHandshakeWhileOthersAreServed() async throws {
            try await LiveServer.with { server in
                let member = try server.client()
                #expect(try await member.call(DiscoverVersionsRequest()).resultStatus == .success)

                let stranger = try await ThrowawayPKI.makeClient(in: server.root + "/stranger")
                for version in [KMIPTLSClient.TLSVersion.tls12, .tls13] {
                    let cases: [(String, KMIPTLSClient)] = [
                        ("a certificate of a CA nobody trusts", try server.client(stranger, tlsVersion: version)),
                        (
                            "no client certificate",
                            try KMIPTLSClient(
                                port: server.port,
                                caFile: server.serverCA,
                                identity: nil,
                                tlsVersion: version
                            )
                        ),
                    ]
                    for (what, client) in cases {
                        do {
                            let item = try await client.call(DiscoverVersionsRequest())
                            Issue.record("\(what) (\(version)) was served: \(item.resultStatus)")
                        } catch let failure as KMIPTLSClient.Failure {
                            #expect(failure.isHandshakeRefusal, "\(what) (\(version)): \(failure)")
                            if version == .tls12 {
                                // TLS 1.2: the client's own handshake fails.
                                #expect(failure.stage == .handshake, "\(what) (\(version)): \(failure)")
                            }
                            print("refused \(what) over \(version): \(failure)")
                        }
                        // The member is still served between refusals.
                        #expect(try await member.call(DiscoverVersionsRequest()).resultStatus == .success)
                    }
                }

                // The same with openssl s_client (TLS 1.2, where the refusal ends the handshake).
                if let openssl = Subprocess.onPath("openssl") {
                    let outcome = try await Subprocess.run(
                        openssl,
                        [
                            "s_client", "-tls1_2", "-connect", "127.0.0.1:\(server.port)", "-CAfile", server.serverCA,
                            "-cert", stranger.certificate, "-key", stranger.key, "-verify_return_error", "-brief",
                        ],
                        timeout: .seconds(60)
                    )
                    #expect(!outcome.succeeded, "openssl s_client with a stranger: \(outcome.output)")
                }
                let key = try await member.createKey()
                #expect(try await member.keyMaterial(key).material?.count == 32)
            }
        }
    }
}
