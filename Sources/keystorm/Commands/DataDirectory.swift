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
import KeystormControl
import Logging
import RootKeys

/// The data directory of the configured Keystorm: its layout (``DataDirectoryLayout``, from the
/// control plane) and the settings that choose its root-key service.
struct DataDirectory {
    let layout: DataDirectoryLayout
    /// The settings that choose and configure the root-key service (`root-keys`, ...); `nil` reads
    /// the environment and `KEYSTORM_CONFIG` only.
    let settings: SettingsResolver?

    /// The `--store` flag of `keystorm serve`; other commands read the setting only.
    var storeFlag: String?

    init(path: String, settings: SettingsResolver? = nil, storeFlag: String? = nil) {
        self.layout = DataDirectoryLayout(path: path)
        self.settings = settings
        self.storeFlag = storeFlag
    }

    /// Where the key store is (the `store` setting).
    func storeLocation() throws -> StoreLocation {
        try StoreLocation(self.settings ?? SettingsResolver(configPath: nil), flag: self.storeFlag)
    }

    /// Opens the key store the `store` setting names: the data directory's SQLite file, or a
    /// PostgreSQL database (migrated on first use).
    func openStore() async throws -> any KeyStore {
        switch try self.storeLocation() {
        case .sqlite:
            return try SQLiteKeyStore(path: self.storePath)
        case .postgres(let configuration):
            // Notices (a new primary after a promotion) and worse, in the server's log.
            var logger = Logger(label: "keystorm.store")
            logger.logLevel = .notice
            return try await PostgresKeyStore.connect(configuration, logger: logger)
        }
    }

    var path: String { self.layout.path }
    var storePath: String { self.layout.storePath }
    var auditPath: String { self.layout.auditPath }
    var tlsDirectory: String { self.layout.tlsDirectory }
    var serverCACertificate: String { self.layout.serverCACertificate }
    var serverCAKey: String { self.layout.serverCAKey }
    var serverCertificate: String { self.layout.serverCertificate }
    var serverKey: String { self.layout.serverKey }
    var clientCACertificate: String { self.layout.clientCACertificate }
    var clientCAKey: String { self.layout.clientCAKey }
    var prewarmDirectory: String { self.layout.prewarmDirectory }
    /// Whether this data directory was made already: its SQLite store exists, or, with a shared
    /// PostgreSQL store, its TLS directory does.
    var exists: Bool {
        if case .postgres = try? self.storeLocation() {
            return FileManager.default.fileExists(atPath: self.tlsDirectory)
        }
        return self.layout.exists
    }

    func clientDirectory(tenant: String) -> String { self.layout.clientDirectory(tenant: tenant) }

    /// Creates the directory tree with owner-only permissions.
    func create() throws { try self.layout.create() }

    /// The server CA, server certificate and client CA: loaded, or created on first start.
    @discardableResult
    func ensurePKI(hostnames: [String]) throws -> Bool { try self.layout.ensurePKI(hostnames: hostnames) }

    /// Opens the store and the root-key service the `root-keys` setting names (`flag` beats it).
    func openProvider(rootKeysFlag: String? = nil) async throws -> (any KeyStore, RootKeyProvider) {
        let settings = try self.settings ?? SettingsResolver(configPath: nil)
        let store = try await self.openStore()
        let provider = try await RootKeyServiceFactory.open(
            RootKeyServiceFactory.providerName(settings, flag: rootKeysFlag),
            settings: settings,
            directory: self,
            store: store
        )
        return (store, provider)
    }

    /// Opens the store and the configured root-key service.
    func open() async throws -> (any KeyStore, any RootKeyService) {
        let (store, provider) = try await self.openProvider()
        return (store, provider.service)
    }

    /// Opens an existing data directory, or explains how to make one.
    func openExisting() async throws -> (any KeyStore, any RootKeyService) {
        try self.requireExisting()
        return try await self.open()
    }

    /// Opens an existing data directory with its root-key provider, or explains how to make one.
    func openExistingProvider() async throws -> (any KeyStore, RootKeyProvider) {
        try self.requireExisting()
        return try await self.openProvider()
    }

    /// Opens an existing data directory's store only (no root-key service).
    func openExistingStore() async throws -> any KeyStore {
        try self.requireExisting()
        return try await self.openStore()
    }

    private func requireExisting() throws {
        if case .postgres = try self.storeLocation() {
            try self.layout.requireExisting(includingStore: false)
        } else {
            try self.layout.requireExisting()
        }
    }

    /// Asks the running server (or the next one to start) to prewarm a tenant's `recent` most
    /// recent keys: a file `prewarm/<hex of the tenant id>` holding the number.
    func requestPrewarm(tenant: String, recent: Int) async throws {
        let directory = self.prewarmDirectory
        let path = directory + "/" + Self.hex(tenant)
        try await Self.onIOQueue {
            try FileManager.default.createDirectory(
                atPath: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
            try Data("\(recent)\n".utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
    }

    /// Takes (reads and removes) the prewarm requests left by `keystorm keys prewarm`.
    func takePrewarmRequests() async -> [(tenant: String, recent: Int)] {
        let directory = self.prewarmDirectory
        return
            (try? await Self.onIOQueue { () -> [(tenant: String, recent: Int)] in
                let fileManager = FileManager.default
                guard let names = try? fileManager.contentsOfDirectory(atPath: directory) else { return [] }
                var requests: [(tenant: String, recent: Int)] = []
                for name in names.sorted() {
                    let path = directory + "/" + name
                    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                    try? fileManager.removeItem(atPath: path)
                    guard let tenant = Self.unhex(name),
                        let recent = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
                    else { continue }
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
}
