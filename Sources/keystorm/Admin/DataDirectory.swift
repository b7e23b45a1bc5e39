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

import Dispatch
import Foundation
import KeyStore
import KeystormPKI
import RootKeys

/// The data directory and what lives in it.
///
/// ```
/// keystorm.sqlite            tenants, client rules, managed objects (key material wrapped)
/// master.key, rootkeys.sealed  the Local root-key provider
/// prewarm/<tenant>           a `keystorm keys prewarm` request the running server picks up
/// audit.log                  one JSON line per KMIP operation
/// tls/server-ca.pem, .key    the CA that signs the server certificate (give vCenter server-ca.pem)
/// tls/server.pem, .key       the server certificate (EKU serverAuth + clientAuth)
/// tls/client-ca.pem, .key    the CA that issues client certificates and signs CSRs
/// clients/<tenant>/<name>.pem, .key  client certificates Keystorm issued
/// ```
struct DataDirectory {
    let path: String
    /// The settings that choose and configure the root-key service (`root-keys`, ...); `nil` reads
    /// the environment and `KEYSTORM_CONFIG` only.
    let settings: SettingsResolver?

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

    /// Where `keystorm keys prewarm` leaves requests for the running server.
    var prewarmDirectory: String { self.path + "/prewarm" }

    init(path: String, settings: SettingsResolver? = nil) {
        self.path = (path as NSString).standardizingPath
        self.settings = settings
    }

    /// Whether a store exists here already.
    var exists: Bool { FileManager.default.fileExists(atPath: self.storePath) }

    /// Creates the directory tree with owner-only permissions.
    func create() throws {
        for directory in [self.path, self.tlsDirectory, self.path + "/clients"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
    }

    /// Opens the store and the root-key service the `root-keys` setting names (`flag` beats it).
    func openProvider(rootKeysFlag: String? = nil) async throws -> (SQLiteKeyStore, RootKeyProvider) {
        let settings = try self.settings ?? SettingsResolver(configPath: nil)
        let provider = try await RootKeyServiceFactory.open(
            RootKeyServiceFactory.providerName(settings, flag: rootKeysFlag),
            settings: settings,
            directory: self
        )
        let store = try SQLiteKeyStore(path: self.storePath)
        return (store, provider)
    }

    /// Opens the store and the configured root-key service.
    func open() async throws -> (SQLiteKeyStore, any RootKeyService) {
        let (store, provider) = try await self.openProvider()
        return (store, provider.service)
    }

    /// Opens an existing data directory, or explains how to make one.
    func openExisting() async throws -> (SQLiteKeyStore, any RootKeyService) {
        try self.requireExisting()
        return try await self.open()
    }

    /// Opens an existing data directory with its root-key provider, or explains how to make one.
    func openExistingProvider() async throws -> (SQLiteKeyStore, RootKeyProvider) {
        try self.requireExisting()
        return try await self.openProvider()
    }

    /// Opens an existing data directory's store only (no root-key service).
    func openExistingStore() throws -> SQLiteKeyStore {
        try self.requireExisting()
        return try SQLiteKeyStore(path: self.storePath)
    }

    private func requireExisting() throws {
        guard self.exists else {
            throw SettingsError("no Keystorm data directory at \(self.path): run 'keystorm serve --data-dir \(self.path)' once, or pass --data-dir")
        }
    }

    /// Asks the running server (or the next one to start) to prewarm a tenant's `recent` most
    /// recent keys: a file `prewarm/<hex of the tenant id>` holding the number.
    func requestPrewarm(tenant: String, recent: Int) async throws {
        let directory = self.prewarmDirectory
        let path = directory + "/" + Self.hex(tenant)
        try await Self.onIOQueue {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try Data("\(recent)\n".utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
    }

    /// Takes (reads and removes) the prewarm requests left by `keystorm keys prewarm`.
    func takePrewarmRequests() async -> [(tenant: String, recent: Int)] {
        let directory = self.prewarmDirectory
        return (try? await Self.onIOQueue { () -> [(tenant: String, recent: Int)] in
            let fileManager = FileManager.default
            guard let names = try? fileManager.contentsOfDirectory(atPath: directory) else { return [] }
            var requests: [(tenant: String, recent: Int)] = []
            for name in names.sorted() {
                let path = directory + "/" + name
                let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                try? fileManager.removeItem(atPath: path)
                guard let tenant = Self.unhex(name), let recent = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { continue }
                requests.append((tenant, recent))
            }
            return requests
        }) ?? []
    }

    private static let ioQueue = DispatchQueue(label: "keystorm.data-directory")

    /// Runs blocking file work off the cooperative thread pool.
    private static func onIOQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Self.ioQueue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    private static func hex(_ text: String) -> String {
        text.utf8.map { String(format: "%02x", $0) }.joined()
    }

    private static func unhex(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2, limitedBy: text.endIndex) ?? text.endIndex
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return String(bytes: bytes, encoding: .utf8)
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
            try issued.save(certificatePath: self.serverCertificate, privateKeyPath: self.serverKey, chain: serverCA.certificate.pem)
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
}
