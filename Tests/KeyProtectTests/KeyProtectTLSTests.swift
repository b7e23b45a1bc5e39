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
import KeystormTestSupport
import RootKeys
import Testing

/// The provider over HTTPS: the emulator serves a certificate from a throwaway CA made with the
/// `openssl` command (CI installs it); the provider trusts that CA through its CA bundle setting.
@Suite("Key Protect provider over TLS")
struct KeyProtectTLSTests {
    @Test("With the CA bundle the calls work; without it the certificate is refused at once")
    func caBundle() async throws {
        guard let openssl = Self.openssl else {
            Issue.record("openssl is not on PATH; CI installs it (.ci/run)")
            return
        }
        let directory = NSTemporaryDirectory() + "kp-tls-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ca = directory + "/ca.pem"
        let caKey = directory + "/ca.key"
        let cert = directory + "/server.pem"
        let key = directory + "/server.key"
        let csr = directory + "/server.csr"
        let extensions = directory + "/ext.cnf"
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: extensions, atomically: true, encoding: .utf8)
        try await Self.run(
            openssl,
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", caKey, "-out", ca, "-days", "2", "-subj", "/CN=Keystorm test CA",
            ]
        )
        try await Self.run(
            openssl,
            [
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1",
            ]
        )
        try await Self.run(
            openssl,
            [
                "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-out", cert,
                "-days", "2", "-extfile", extensions,
            ]
        )

        let options = KeyProtectEmulatorProcess.Options(tls: .init(certificate: cert, key: key))
        try await KeyProtectEmulatorProcess.with(options) { emulator in
            #expect(emulator.baseURL.hasPrefix("https://"))
            func service(caBundle: String?) throws -> KeyProtectRootKeyService {
                var configuration = KeyProtectRootKeyService.Configuration(
                    endpoint: emulator.baseURL,
                    iamEndpoint: emulator.baseURL + "/identity/token",
                    instanceID: emulator.instanceID,
                    apiKey: "tls-test-key",
                    caBundlePath: caBundle
                )
                configuration.retry = KeyProtectRetryPolicy(budget: .seconds(2), baseDelay: .milliseconds(20))
                return try KeyProtectRootKeyService(configuration: configuration)
            }

            let trusting = try service(caBundle: ca)
            let rootKey = try await trusting.createRootKey(label: "over tls").keyID
            let wrapped = try await trusting.wrap(SecretBytes([1, 2, 3, 4]), rootKeyID: rootKey, aad: [9])
            #expect(
                try await trusting.unwrap(wrapped, rootKeyID: rootKey, aad: [9]).plaintext.copyBytes() == [1, 2, 3, 4]
            )
            try await trusting.shutdown()

            let untrusting = try service(caBundle: nil)
            let error = await #expect(throws: RootKeyError.self) {
                _ = try await untrusting.info(rootKeyID: rootKey)
            }
            #expect(error?.code == .unavailable)
            #expect(untrusting.statistics.retries == 0)
            try await untrusting.shutdown()
        }
    }

    static let openssl: String? = ChildProcess.onPath("openssl")

    /// Runs a command that must succeed; its output goes into the error when it fails.
    static func run(_ executable: String, _ arguments: [String]) async throws {
        let result = try await ChildProcess.run(executable, arguments, timeout: .seconds(60))
        guard result.succeeded else {
            throw RootKeyError(
                .io,
                reason: "\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.output)"
            )
        }
    }
}
