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
import IOReactor
import KeystormSpawn

/// A throw-away PKI generated with the `openssl` CLI into a temporary directory, once per test run:
/// an ECDSA P-256 CA, a server certificate (EKU serverAuth), client certificates with and without
/// EKU clientAuth, a rogue CA with its own client, and a self-signed client for pinning.
struct TestPKI: Sendable {
    /// A certificate and key on disk.
    struct Identity: Sendable {
        var certificate: String
        var key: String
    }

    let directory: String
    let caCertificate: String
    let server: Identity
    let client: Identity
    let clientWithoutClientAuth: Identity
    let rogueClient: Identity
    let selfSignedClient: Identity
    let secondSelfSignedClient: Identity

    /// The PKI shared by every test (generated on first use).
    static let shared: TestPKI = {
        do {
            return try TestPKI.generate()
        } catch {
            fatalError("cannot generate the test PKI: \(error)")
        }
    }()

    private static let extensions = """
        [req]
        distinguished_name = dn
        [dn]
        [ca]
        basicConstraints = critical,CA:TRUE
        keyUsage = critical,keyCertSign,cRLSign
        subjectKeyIdentifier = hash
        [server]
        basicConstraints = CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = serverAuth
        subjectAltName = IP:127.0.0.1,DNS:localhost
        [client]
        basicConstraints = CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = clientAuth
        [noclientauth]
        basicConstraints = CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = serverAuth
        """

    static func generate() throws -> TestPKI {
        let directory = NSTemporaryDirectory() + "keystorm-reactor-pki-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = { (name: String) in "\(directory)/\(name)" }
        try extensions.write(toFile: path("ext.cnf"), atomically: true, encoding: .utf8)

        func key(_ name: String) throws {
            try openssl([
                "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path("\(name).key"),
            ])
        }
        func selfSigned(_ name: String, subject: String, section: String) throws {
            try key(name)
            try openssl([
                "req", "-x509", "-new", "-key", path("\(name).key"), "-subj", subject, "-days", "3",
                "-config", path("ext.cnf"), "-extensions", section,
                "-out", path("\(name).pem"),
            ])
        }
        func issued(_ name: String, by issuer: String, subject: String, section: String) throws {
            try key(name)
            try openssl([
                "req", "-new", "-key", path("\(name).key"), "-subj", subject, "-config", path("ext.cnf"), "-out",
                path("\(name).csr"),
            ])
            try openssl([
                "x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(issuer).pem"), "-CAkey",
                path("\(issuer).key"),
                "-set_serial", "\(UInt32.random(in: 1...UInt32.max))", "-days", "3",
                "-extfile", path("ext.cnf"), "-extensions", section, "-out", path("\(name).pem"),
            ])
        }
        try selfSigned("ca", subject: "/CN=Keystorm Test CA", section: "ca")
        try selfSigned("rogue-ca", subject: "/CN=Rogue CA", section: "ca")
        try issued("server", by: "ca", subject: "/CN=localhost", section: "server")
        try issued("client", by: "ca", subject: "/CN=vcenter-1", section: "client")
        try issued("client-noeku", by: "ca", subject: "/CN=no-client-auth", section: "noclientauth")
        try issued("rogue-client", by: "rogue-ca", subject: "/CN=rogue", section: "client")
        try selfSigned("pinned", subject: "/CN=pinned-vcenter", section: "client")
        try selfSigned("pinned-2", subject: "/CN=pinned-vcenter-2", section: "client")
        let identity = { (name: String) in Identity(certificate: path("\(name).pem"), key: path("\(name).key")) }
        return TestPKI(
            directory: directory,
            caCertificate: path("ca.pem"),
            server: identity("server"),
            client: identity("client"),
            clientWithoutClientAuth: identity("client-noeku"),
            rogueClient: identity("rogue-client"),
            selfSignedClient: identity("pinned"),
            secondSelfSignedClient: identity("pinned-2")
        )
    }

    /// An RSA-2048 server certificate from the test CA (the legacy TLS_RSA suites need an RSA key),
    /// generated on first use.
    static func rsaServer() throws -> Identity {
        let pki = TestPKI.shared
        let path = { (name: String) in "\(pki.directory)/\(name)" }
        if !FileManager.default.fileExists(atPath: path("rsa-server.pem")) {
            try openssl([
                "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path("rsa-server.key"),
            ])
            try openssl([
                "req", "-new", "-key", path("rsa-server.key"), "-subj", "/CN=localhost", "-config", path("ext.cnf"),
                "-out", path("rsa-server.csr"),
            ])
            try openssl([
                "x509", "-req", "-in", path("rsa-server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
                "-set_serial", "\(UInt32.random(in: 1...UInt32.max))", "-days", "3", "-extfile", path("ext.cnf"),
                "-extensions", "server", "-out", path("rsa-server.pem"),
            ])
        }
        return Identity(certificate: path("rsa-server.pem"), key: path("rsa-server.key"))
    }

    /// The SHA-256 fingerprint of a PEM certificate file, as `openssl x509 -fingerprint` prints it.
    static func fingerprint(ofCertificate path: String) throws -> CertificateFingerprint {
        let output = try openssl(["x509", "-in", path, "-noout", "-fingerprint", "-sha256"])
        guard let hex = output.split(separator: "=").last.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }),
            let fingerprint = CertificateFingerprint(hex: hex)
        else { throw TestFailure("cannot parse fingerprint output: \(output)") }
        return fingerprint
    }

    /// Runs `/usr/bin/openssl` with `arguments` and returns its standard output; throws on failure.
    @discardableResult
    static func openssl(_ arguments: [String]) throws -> String {
        let result = try ProcessRunner.run("/usr/bin/openssl", arguments, input: nil, timeoutSeconds: 30)
        guard result.status == 0 else {
            throw TestFailure("openssl \(arguments.joined(separator: " ")) failed: \(result.output)")
        }
        return result.output
    }

    /// A TLS configuration for the server certificate trusting the test CA.
    func serverConfiguration(pins: Set<CertificateFingerprint> = []) -> TLSServerConfiguration {
        TLSServerConfiguration(
            certificateChain: .file(self.server.certificate),
            privateKey: .file(self.server.key),
            trust: TrustPolicy(caCertificates: [.file(self.caCertificate)], pinnedFingerprints: pins)
        )
    }
}

/// A test failure with a message.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a child process with a time limit, collecting standard output and error together.
enum ProcessRunner {
    struct Result {
        var status: Int32
        var output: String
    }

    /// Blocking: call it from a dedicated thread (``onThread(_:)``) in async tests. A child still
    /// running at the time limit is terminated, and what it printed so far is returned.
    static func run(_ executable: String, _ arguments: [String], input: Data?, timeoutSeconds: Double) throws -> Result
    {
        let child = try ChildProcess(.init(executable, arguments, input: input.map { .bytes(Array($0)) } ?? .null))
        var termination = child.waitBlocking(timeout: .milliseconds(Int(timeoutSeconds * 1000)))
        if termination == nil {
            child.signal(SIGTERM)
            termination = child.waitBlocking(timeout: .seconds(30))
        }
        return Result(status: termination?.status ?? -1, output: child.output)
    }
}

/// Runs blocking `body` on a new thread (never on the cooperative pool) and awaits its result.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try body() })
        }
    }
}
