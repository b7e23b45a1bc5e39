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
import KeyStore
import KeystormPKI
import RootKeys

/// The data directory and what lives in it.
///
/// ```
/// keystorm.sqlite            tenants, client rules, managed objects (key material wrapped)
/// master.key, rootkeys.sealed  the Local root-key provider
/// audit.log                  one JSON line per KMIP operation
/// tls/server-ca.pem, .key    the CA that signs the server certificate (give vCenter server-ca.pem)
/// tls/server.pem, .key       the server certificate (EKU serverAuth + clientAuth)
/// tls/client-ca.pem, .key    the CA that issues client certificates and signs CSRs
/// clients/<tenant>/<name>.pem, .key  client certificates Keystorm issued
/// ```
struct DataDirectory {
    let path: String

    var storePath: String { self.path + "/keystorm.sqlite" }
    var auditPath: String { self.path + "/audit.log" }
    var tlsDirectory: String { self.path + "/tls" }
    var serverCACertificate: String { self.tlsDirectory + "/server-ca.pem" }
    var serverCAKey: String { self.tlsDirectory + "/server-ca.key" }
    var serverCertificate: String { self.tlsDirectory + "/server.pem" }
    var serverKey: String { self.tlsDirectory + "/server.key" }
    var clientCACertificate: String { self.tlsDirectory + "/client-ca.pem" }
    var clientCAKey: String { self.tlsDirectory + "/client-ca.key" }

    func clientDirectory(tenant: String) -> String { self.path + "/clients/" + tenant }

    init(path: String) {
        self.path = (path as NSString).standardizingPath
    }

    /// Whether a store exists here already.
    var exists: Bool { FileManager.default.fileExists(atPath: self.storePath) }

    /// Creates the directory tree with owner-only permissions.
    func create() throws {
        for directory in [self.path, self.tlsDirectory, self.path + "/clients"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
    }

    /// Opens the store and the Local root keys.
    func open() async throws -> (SQLiteKeyStore, LocalRootKeyService) {
        let store = try SQLiteKeyStore(path: self.storePath)
        let rootKeys = try await LocalRootKeyService.open(.init(dataDirectory: self.path))
        return (store, rootKeys)
    }

    /// Opens an existing data directory, or explains how to make one.
    func openExisting() async throws -> (SQLiteKeyStore, LocalRootKeyService) {
        guard self.exists else {
            throw SettingsError("no Keystorm data directory at \(self.path): run 'keystorm serve --data-dir \(self.path)' once, or pass --data-dir")
        }
        return try await self.open()
    }

    /// The server CA, server certificate and client CA: loaded, or created on first start.
    ///
    /// - Returns: Whether anything was created.
    @discardableResult
    func ensurePKI(hostnames: [String]) throws -> Bool {
        var created = false
        let fileManager = FileManager.default
        let serverCA: CertificateAuthority
        if fileManager.fileExists(atPath: self.serverCACertificate) {
            serverCA = try CertificateAuthority(certificatePath: self.serverCACertificate, privateKeyPath: self.serverCAKey)
        } else {
            serverCA = try CertificateAuthority.create(commonName: "Keystorm server CA")
            try serverCA.save(certificatePath: self.serverCACertificate, privateKeyPath: self.serverCAKey)
            created = true
        }
        if !fileManager.fileExists(atPath: self.serverCertificate) {
            let issued = try serverCA.issueServerCertificate(
                commonName: hostnames.first ?? "localhost",
                dnsNames: Array(Set(["localhost"] + hostnames.filter { !$0.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } })).sorted(),
                ipAddresses: Array(Set(["127.0.0.1", "::1"] + hostnames.filter { $0.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } })).sorted()
            )
            // The chain vCenter retrieves: server certificate, then its CA.
            try (issued.certificatePEM + serverCA.certificate.pem).write(toFile: self.serverCertificate, atomically: true, encoding: .utf8)
            try Self.writeSecret(issued.privateKeyPEM, to: self.serverKey)
            created = true
        }
        if !fileManager.fileExists(atPath: self.clientCACertificate) {
            let clientCA = try CertificateAuthority.create(commonName: "Keystorm client CA")
            try clientCA.save(certificatePath: self.clientCACertificate, privateKeyPath: self.clientCAKey)
            created = true
        }
        return created
    }

    /// The CA that issues client certificates.
    func clientCA() throws -> CertificateAuthority {
        try CertificateAuthority(certificatePath: self.clientCACertificate, privateKeyPath: self.clientCAKey)
    }

    /// Writes a private key readable by the owner only.
    static func writeSecret(_ text: String, to path: String) throws {
        let created = FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        guard created else { throw SettingsError("cannot write \(path)") }
    }
}
