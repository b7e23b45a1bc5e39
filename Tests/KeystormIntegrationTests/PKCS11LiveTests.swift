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
    /// `keystorm serve` with its root keys in a SoftHSM2 token (`root-keys = "pkcs11"`).
    @Suite(
        "PKCS#11 root keys, live",
        .enabled(if: SoftHSMToken.unavailableReason == nil, Comment(rawValue: SoftHSMToken.unavailableReason ?? ""))
    )
    struct PKCS11LiveTests {
        @Test func keysCreatedUnderAnHSMRootKeyAreServedAcrossARestart() async throws {
            let token = try SoftHSMToken.shared.get()
            let pinFile = token.directory + "/live-\(UUID().uuidString).pin"
            let pin = Data((SoftHSMToken.userPIN + "\n").utf8)
            #expect(
                FileManager.default.createFile(atPath: pinFile, contents: pin, attributes: [.posixPermissions: 0o600])
            )
            let config = token.directory + "/live-\(UUID().uuidString).toml"
            try """
            root-keys = "pkcs11"
            [pkcs11]
            module = "\(token.modulePath)"
            token-label = "\(SoftHSMToken.liveLabel)"
            pin-file = "\(pinFile)"
            sessions = 2

            """.write(toFile: config, atomically: true, encoding: .utf8)

            // The child inherits SOFTHSM2_CONF, which SoftHSMToken set in this process.
            try await LiveServer.with(arguments: ["--config", config]) { server in
                let client = try server.client()
                var material: [UniqueIdentifier: [UInt8]] = [:]
                for _ in 0..<5 {
                    let uid = try await client.createKey()
                    let got = try await client.keyMaterial(uid)
                    let bytes: [UInt8] = try #require(got.material, "Get: \(got.item.resultMessage ?? "")")
                    #expect(bytes.count == 32)
                    material[uid] = bytes
                }
                // The tenant's root key is in the token, not in a Local key file.
                #expect(!FileManager.default.fileExists(atPath: server.dataDirectory + "/rootkeys.sealed"))
                #expect(
                    try await token.activeRootKeyLabels(tokenLabel: SoftHSMToken.liveLabel).contains("tenant default")
                )

                // A new process logs in to the token again and unwraps with the same root key.
                await server.stop(removing: false)
                try await server.launch()
                let restarted = try server.client()
                for (uid, bytes) in material {
                    let got = try await restarted.keyMaterial(uid)
                    #expect(got.material == bytes, "Get after the restart: \(got.item.resultMessage ?? "")")
                }
            }
        }
    }
}
