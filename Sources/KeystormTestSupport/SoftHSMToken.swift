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
import KeystormSpawn
public import RootKeys

/// One SoftHSM2 token for the whole PKCS#11 suite, in a temporary token directory.
///
/// SoftHSM2 reads `SOFTHSM2_CONF` when the module is initialised (`C_Initialize`), so the variable
/// is set in this process before any service opens, and it names a configuration file whose
/// `directories.tokendir` lies in the temporary directory: the tests never touch the machine's
/// tokens. The token is made with `softhsm2-util --init-token --free`. Every test target shares
/// the one token (they run in one process); a `keystorm` child process inherits `SOFTHSM2_CONF`.
public struct SoftHSMToken: Sendable {
    public static let label = "keystorm-test"
    /// A second token on the same configuration, for the live-server tests: their logins never
    /// meet the RootKeys tests' (PKCS#11 keeps one login state per token and process).
    public static let liveLabel = "keystorm-live"
    /// A third token, for the wrong-PIN test alone: no other service of the process logs in to it,
    /// so its first login really reaches `C_Login`.
    public static let pinTestLabel = "keystorm-pin"
    public static let userPIN = "4821-keystorm-user"
    static let soPIN = "9375-keystorm-so"

    /// The temporary directory: `softhsm2.conf`, `tokens/`, room for the tests' own files.
    public var directory: String
    /// The SoftHSM2 module.
    public var modulePath: String

    /// Why the suite cannot run here, or nil when `softhsm2-util` and the module are installed.
    public static let unavailableReason: String? = {
        if Self.executable("softhsm2-util") == nil {
            return "softhsm2-util is not installed (Debian: apt-get install softhsm2); the PKCS#11 tests are skipped"
        }
        if Self.modulePath == nil {
            return "softhsm2-util is installed but libsofthsm2.so is not where expected; set KEYSTORM_PKCS11_MODULE"
        }
        return nil
    }()

    /// The token, made on first use.
    public static let shared: Result<SoftHSMToken, any Error> = Result { try SoftHSMToken.make() }

    /// The configuration of a service on the suite's token.
    public func configuration(
        pin: String = Self.userPIN,
        sessions: Int = 4,
        tokenLabel: String = Self.label
    ) -> PKCS11RootKeyService.Configuration {
        .init(modulePath: self.modulePath, tokenLabel: tokenLabel, pin: .value(pin), sessions: sessions)
    }

    /// The labels of the active root keys in the token, as a service of this process sees them.
    public func activeRootKeyLabels(tokenLabel: String) async throws -> [String] {
        let service = try await PKCS11RootKeyService.open(self.configuration(sessions: 1, tokenLabel: tokenLabel))
        return try await service.allRootKeys().filter { $0.state == .active }.map(\.label)
    }

    private static var modulePath: String? {
        let candidates = [
            ProcessInfo.processInfo.environment["KEYSTORM_PKCS11_MODULE"],
            PKCS11RootKeyService.Configuration.softHSM2ModulePath,
            "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
            "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
            "/usr/local/lib/softhsm/libsofthsm2.so",
        ]
        return candidates.compactMap { $0 }.first { FileManager.default.fileExists(atPath: $0) }
    }

    private static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    private static func make() throws -> SoftHSMToken {
        guard let util = Self.executable("softhsm2-util"), let modulePath = Self.modulePath else {
            throw SoftHSMSetupError(description: Self.unavailableReason ?? "SoftHSM2 is not installed")
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("keystorm-softhsm-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/tokens", withIntermediateDirectories: true)
        let configPath = directory + "/softhsm2.conf"
        let config = """
            directories.tokendir = \(directory)/tokens
            objectstore.backend = file
            log.level = ERROR
            slots.removable = false

            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        setenv("SOFTHSM2_CONF", configPath, 1)

        for label in [Self.label, Self.liveLabel, Self.pinTestLabel] {
            var environment = ProcessInfo.processInfo.environment
            environment["SOFTHSM2_CONF"] = configPath
            let result = try ChildProcess.runBlocking(
                util,
                ["--init-token", "--free", "--label", label, "--so-pin", Self.soPIN, "--pin", Self.userPIN],
                environment: environment
            )
            guard result.succeeded else {
                throw SoftHSMSetupError(description: "softhsm2-util --init-token failed: \(result.output)")
            }
        }
        return SoftHSMToken(directory: directory, modulePath: modulePath)
    }
}

/// SoftHSM2 is missing or `softhsm2-util --init-token` failed.
public struct SoftHSMSetupError: Error, CustomStringConvertible {
    public var description: String
}
