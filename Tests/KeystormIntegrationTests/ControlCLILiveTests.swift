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

#if canImport(Glibc)
import Glibc
#endif

extension LiveServerTests {
    /// The operator commands as a newcomer meets them, run as subprocesses: what they print, their
    /// exit code, and the state after.
    @Suite("Control-plane commands, live")
    struct ControlCLILiveTests {
        /// `keystorm <arguments> --data-dir <data>`, whatever its exit code.
        static func run(_ server: LiveServer, _ arguments: [String]) async throws -> Subprocess.Outcome {
            try await Subprocess.run(
                server.binary,
                arguments + ["--data-dir", server.dataDirectory],
                environment: LiveServer.environment()
            )
        }

        /// A failure is one `Error:` line, exit code 1, no usage block and no Foundation or OpenSSL dump.
        static func expectOneLineFailure(
            _ outcome: Subprocess.Outcome,
            containing text: String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            #expect(outcome.status == 1, "\(outcome.output)", sourceLocation: sourceLocation)
            let lines = outcome.output.split(separator: "\n", omittingEmptySubsequences: true)
            #expect(lines.count == 1, "\(outcome.output)", sourceLocation: sourceLocation)
            #expect(outcome.output.hasPrefix("Error: "), "\(outcome.output)", sourceLocation: sourceLocation)
            #expect(outcome.output.contains(text), "\(outcome.output)", sourceLocation: sourceLocation)
            for dump in ["Usage:", "Error Domain=", "NSCocoaErrorDomain", "error:0", "RootKeyError", "KeyStoreError"] {
                #expect(!outcome.output.contains(dump), "\(outcome.output)", sourceLocation: sourceLocation)
            }
        }

        @Test func aRuleAddedWithClientsAddOrSignCSRIsLiveWhenTheCommandReturns() async throws {
            try await LiveServer.with { server in
                // --cert: a client certificate from a CA nobody trusts yet, connecting at once.
                let pinned = try await ThrowawayPKI.makeClient(in: server.root + "/pinned", name: "pinned")
                let added = try await Self.run(
                    server,
                    ["clients", "add", "--tenant", "default", "--cert", pinned.certificate]
                )
                #expect(added.succeeded, "\(added.output)")
                #expect(added.output.contains(": rule "), "\(added.output)")
                #expect(try await server.client(pinned).call(DiscoverVersionsRequest()).resultStatus == .success)

                // --ca: every certificate the CA issued, at once.
                let issued = try await ThrowawayPKI.makeClient(in: server.root + "/ca", name: "by-ca")
                let ca = server.root + "/ca/by-ca-ca.pem"
                let trusted = try await Self.run(server, ["clients", "add", "--tenant", "default", "--ca", ca])
                #expect(trusted.succeeded, "\(trusted.output)")
                #expect(try await server.client(issued).call(DiscoverVersionsRequest()).resultStatus == .success)

                // sign-csr: prints the new rule's id; the signed certificate connects at once.
                guard let openssl = Subprocess.onPath("openssl") else {
                    throw LiveTestFailure("openssl is not on PATH")
                }
                let key = server.root + "/vc.key"
                let csr = server.root + "/vc.csr"
                let made = try await Subprocess.run(
                    openssl,
                    [
                        "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=vcenter-csr", "-keyout", key,
                        "-out", csr,
                    ]
                )
                #expect(made.succeeded, "\(made.output)")
                let certificate = server.root + "/vc.pem"
                let signed = try await Self.run(
                    server,
                    ["clients", "sign-csr", "--tenant", "default", "--csr", csr, "--out", certificate]
                )
                #expect(signed.succeeded, "\(signed.output)")
                let ruleLine = try #require(signed.output.split(separator: "\n").first { $0.contains(": rule ") })
                let rule = String(ruleLine[ruleLine.range(of: ": rule ")!.upperBound...])
                #expect(try await server.cli(["clients", "list"]).contains(rule))
                let client = try server.client(.init(certificate: certificate, key: key))
                #expect(try await client.call(DiscoverVersionsRequest()).resultStatus == .success)
            }
        }

        @Test func clientsAddAcceptsACertificateWithoutExtendedKeyUsageAndRefusesOneWithoutClientAuth() async throws {
            try await LiveServer.with { server in
                guard let openssl = Subprocess.onPath("openssl") else {
                    throw LiveTestFailure("openssl is not on PATH")
                }
                func selfSigned(_ name: String, extensions: [String]) async throws -> String {
                    var arguments = [
                        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                        "-subj", "/CN=\(name)", "-keyout", server.root + "/\(name).key", "-out",
                        server.root + "/\(name).pem",
                        "-addext", "basicConstraints=critical,CA:FALSE",
                    ]
                    for item in extensions { arguments += ["-addext", item] }
                    let outcome = try await Subprocess.run(openssl, arguments)
                    #expect(outcome.succeeded, "\(outcome.output)")
                    return server.root + "/\(name).pem"
                }
                // openssl req -x509 adds no extended key usage unless asked: RFC 5280 unrestricted.
                let plain = try await selfSigned("no-eku", extensions: [])
                let accepted = try await Self.run(server, ["clients", "add", "--tenant", "default", "--cert", plain])
                #expect(accepted.status == 0, "\(accepted.output)")
                #expect(accepted.output.contains("pinned no-eku"), "\(accepted.output)")

                let serverOnly = try await selfSigned("server-only", extensions: ["extendedKeyUsage=serverAuth"])
                let refused = try await Self.run(
                    server,
                    ["clients", "add", "--tenant", "default", "--cert", serverOnly]
                )
                Self.expectOneLineFailure(refused, containing: "without clientAuth")
                let rules = try await server.cli(["clients", "list"])
                #expect(rules.contains("no-eku") && !rules.contains("server-only"), "\(rules)")
            }
        }

        @Test func shreddedKeysListAsShreddedAndADeletedRootKeyIsOneClearLine() async throws {
            try await LiveServer.with { server in
                let client = try server.client()
                let uid = try await client.createKey()
                let before = try await server.cli(["keys", "list"])
                #expect(before.contains("\(uid)\tSymmetricKey\t"), "\(before)")
                #expect(!before.contains("Shredded"), "\(before)")
                _ = try await server.cli(["root-key", "delete", "--tenant", "default", "--yes"])

                let listed = try await server.cli(["keys", "list"])
                #expect(listed.contains("\(uid)\tSymmetricKey\tShredded"), "\(listed)")
                #expect(!listed.contains("Active"), "\(listed)")  // neither Active nor PreActive

                let rotate = try await Self.run(server, ["root-key", "rotate", "--tenant", "default"])
                Self.expectOneLineFailure(rotate, containing: "tenant 'default'")
                #expect(rotate.output.contains("deleted"), "\(rotate.output)")
                let delete = try await Self.run(server, ["root-key", "delete", "--tenant", "default", "--yes"])
                Self.expectOneLineFailure(delete, containing: "already deleted")

                // The same with the server stopped: the commands work on the data directory.
                await server.stop(removing: false)
                let offline = try await Self.run(server, ["keys", "list"])
                #expect(offline.output.contains("\(uid)\tSymmetricKey\tShredded"), "\(offline.output)")
                let rotateOffline = try await Self.run(server, ["root-key", "rotate", "--tenant", "default"])
                Self.expectOneLineFailure(
                    rotateOffline,
                    containing: "cannot rotate the root key of tenant 'default': it is deleted"
                )
            }
        }

        @Test func runtimeErrorsAreOneLineWithExitCode1AndBadUsageIs64() async throws {
            try await LiveServer.with { server in
                let missing = server.root + "/no-such.pem"
                let unreadable = try await Self.run(
                    server,
                    ["clients", "add", "--tenant", "default", "--cert", missing]
                )
                Self.expectOneLineFailure(unreadable, containing: "cannot read \(missing)")
                #expect(unreadable.output.contains("no such file"), "\(unreadable.output)")

                let noTenant = try await Self.run(server, ["root-key", "status", "--tenant", "nope"])
                Self.expectOneLineFailure(noTenant, containing: "no tenant 'nope'")

                let noRule = try await Self.run(server, ["clients", "remove", "r-none"])
                Self.expectOneLineFailure(noRule, containing: "no client rule r-none")

                let noDirectory = try await Subprocess.run(
                    server.binary,
                    ["keys", "list", "--data-dir", server.root + "/nowhere"],
                    environment: LiveServer.environment()
                )
                Self.expectOneLineFailure(noDirectory, containing: "no Keystorm data directory at")

                // Bad usage, and only bad usage, prints the usage and exits 64.
                let usage = try await Self.run(server, ["clients", "add", "--tenant", "default"])
                #expect(usage.status == 64, "\(usage.output)")
                #expect(usage.output.contains("Usage:"), "\(usage.output)")
            }
        }

        /// Root reads every directory: as root, the command runs as `nobody` (setpriv) on the
        /// server's owner-only data directory; otherwise the directory is made unreadable.
        @Test(.enabled(if: geteuid() != 0 || Subprocess.onPath("setpriv") != nil, "needs setpriv as root"))
        func anUnreadableDataDirectoryIsPermissionDeniedNotMissing() async throws {
            try await LiveServer.with { server in
                await server.stop(removing: false)
                let outcome: Subprocess.Outcome
                if geteuid() == 0, let setpriv = Subprocess.onPath("setpriv") {
                    outcome = try await Subprocess.run(
                        setpriv,
                        [
                            "--reuid=65534", "--regid=65534", "--clear-groups", server.binary, "tenants", "list",
                            "--data-dir", server.dataDirectory,
                        ],
                        environment: LiveServer.environment()
                    )
                } else {
                    chmod(server.dataDirectory, 0)
                    defer { chmod(server.dataDirectory, 0o700) }
                    outcome = try await Self.run(server, ["tenants", "list"])
                }
                Self.expectOneLineFailure(outcome, containing: "permission denied")
                #expect(outcome.output.contains(server.dataDirectory), "\(outcome.output)")
                #expect(!outcome.output.contains("no Keystorm data directory"), "\(outcome.output)")
            }
        }

        @Test func aTenantOrAServerWithAnotherRootKeyProviderIsRefusedNamingBoth() async throws {
            let apiKey = "keystorm-provider-api-key"
            try await KeyProtectEmulatorProcess.with(.init(apiKeys: [apiKey])) { emulator in
                let root = NSTemporaryDirectory() + "keystorm-provider-" + UUID().uuidString.prefix(8).lowercased()
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: root) }
                let keyFile = root + "/api-key"
                try apiKey.write(toFile: keyFile, atomically: true, encoding: .utf8)
                let section = """
                    [keyprotect]
                    url = "\(emulator.baseURL)"
                    iam-url = "\(emulator.baseURL)/identity/token"
                    instance-id = "\(emulator.instanceID)"
                    api-key-file = "\(keyFile)"
                    """
                // The README's recipe: the config has no root-keys line, the server is started with --root-keys.
                let config = root + "/kp.toml"
                try section.write(toFile: config, atomically: true, encoding: .utf8)
                try await LiveServer.with(arguments: ["--config", config, "--root-keys", "keyprotect"]) { server in
                    await server.stop(removing: false)
                    let create = try await Self.run(server, ["tenants", "create", "kp2", "--config", config])
                    Self.expectOneLineFailure(create, containing: "cannot create tenant 'kp2' with a local root key")
                    #expect(create.output.contains("keyprotect root-key service"), "\(create.output)")
                    #expect(!(try await server.cli(["tenants", "list"]).contains("kp2")))

                    let start = try await Subprocess.run(
                        server.binary,
                        [
                            "serve", "--data-dir", server.dataDirectory, "--config", config, "--listen", "127.0.0.1:0",
                            "--admin-listen", "off",
                        ],
                        environment: LiveServer.environment(),
                        timeout: .seconds(60)
                    )
                    #expect(start.status == 1, "\(start.output)")
                    #expect(start.output.contains("root-keys is local"), "\(start.output)")
                    #expect(start.output.contains("keyprotect root-key service"), "\(start.output)")
                }
            }
        }
    }
}
