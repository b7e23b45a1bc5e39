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
import KeystormPKI
import Testing

/// The certificates of one Keystorm deployment, written out for the OpenSSL peers.
private struct Deployment {
    let directory: TemporaryDirectory
    let serverCA: CertificateAuthority
    let clientCA: CertificateAuthority
    let files: TLSHandshake.Files

    init(serverKey: KeyAlgorithm = .ecdsaP256, clientKey: KeyAlgorithm = .ecdsaP256) throws {
        self.directory = try TemporaryDirectory()
        self.serverCA = try CertificateAuthority.create(commonName: "Keystorm server CA")
        self.clientCA = try CertificateAuthority.create(commonName: "Keystorm client CA")
        let server = try self.serverCA.issueServerCertificate(commonName: "localhost", keyAlgorithm: serverKey)
        let client = try self.clientCA.issueClientCertificate(commonName: "vcenter", keyAlgorithm: clientKey)
        try self.serverCA.save(
            certificatePath: self.directory.file("ca.pem"),
            privateKeyPath: self.directory.file("ca.key")
        )
        try self.clientCA.save(
            certificatePath: self.directory.file("clientca.pem"),
            privateKeyPath: self.directory.file("clientca.key")
        )
        try server.save(
            certificatePath: self.directory.file("server.pem"),
            privateKeyPath: self.directory.file("server.key")
        )
        try client.save(
            certificatePath: self.directory.file("client.pem"),
            privateKeyPath: self.directory.file("client.key")
        )
        self.files = TLSHandshake.Files(
            serverCertificate: self.directory.file("server.pem"),
            serverKey: self.directory.file("server.key"),
            clientCAs: self.directory.file("clientca.pem"),
            clientCertificate: self.directory.file("client.pem"),
            clientKey: self.directory.file("client.key"),
            serverCAs: self.directory.file("ca.pem")
        )
    }
}

@Suite("Mutual TLS with OpenSSL peers", .enabled(if: OpenSSL.isAvailable, "needs /usr/bin/openssl"))
struct TLSHandshakeTests {
    @Test(
        "s_server with Keystorm's server certificate and client CA accepts s_client with an issued client certificate",
        arguments: ["-tls1_3", "-tls1_2"]
    )
    func mutualTLS(version: String) throws {
        let deployment = try Deployment()
        let handshake = try TLSHandshake.run(deployment.files, in: deployment.directory, clientArguments: [version])
        #expect(handshake.succeeded, "client: \(handshake.client.output)\nserver: \(handshake.server.output)")
        #expect(handshake.server.stderr.contains("depth=0 O = Keystorm, CN = vcenter"), "\(handshake.server.output)")
        #expect(handshake.client.stdout.contains(version == "-tls1_3" ? "TLSv1.3" : "TLSv1.2"))
    }

    @Test("an RSA server key serves vCenter 7.0.3's TLS 1.2 AES128-SHA256, with an RSA client certificate")
    func rsaKeyTransport() throws {
        let deployment = try Deployment(serverKey: .rsa2048, clientKey: .rsa2048)
        let handshake = try TLSHandshake.run(
            deployment.files,
            in: deployment.directory,
            clientArguments: ["-tls1_2", "-cipher", "AES128-SHA256"]
        )
        #expect(handshake.succeeded, "client: \(handshake.client.output)\nserver: \(handshake.server.output)")
        #expect(handshake.client.stdout.contains("Cipher is AES128-SHA256"))
    }

    @Test("a client certificate from another CA is refused by s_server")
    func foreignClientRefused() throws {
        let deployment = try Deployment()
        let stranger = try CertificateAuthority.create(commonName: "Someone else's CA")
        try stranger.issueClientCertificate(commonName: "intruder").save(
            certificatePath: deployment.directory.file("intruder.pem"),
            privateKeyPath: deployment.directory.file("intruder.key")
        )
        var files = deployment.files
        files.clientCertificate = deployment.directory.file("intruder.pem")
        files.clientKey = deployment.directory.file("intruder.key")
        let handshake = try TLSHandshake.run(files, in: deployment.directory)
        #expect(!handshake.succeeded)
        #expect(!handshake.client.stdout.contains("HTTP/1.0 200 ok"))
    }
}
