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

import ArgumentParser
import Crypto
import Foundation
import KeyStore
import KeystormControl

#if canImport(Glibc)
import Glibc
#endif

/// `keystorm backup --out F`: everything the store holds, as of one moment, into one file.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract:
            "Write the store (tenants, trust rules, wrapped keys, attributes, states, root keys sealed) to a file.",
        discussion: """
            The file holds no key in the clear: keys stay wrapped under their root keys, and the Local
            provider's root keys stay sealed under the master key, which is not in the file: keep a
            copy of master.key (or KEYSTORM_MASTER_KEY) apart from the backup. The store is read in
            one transaction, so a backup taken while servers run is one consistent snapshot.
            Works on either store (the store setting: sqlite or postgres://...).
            """
    )

    @OptionGroup var common: CommonOptions
    @Option(name: .customLong("out"), help: "The file to write (created; never replaced).") var output: String

    func run() async throws {
        try await CommandErrors.presenting {
            let directory = try self.common.dataDirectory(self.common.resolver())
            let store = try await directory.openExistingStore()
            var snapshot = try await store.snapshot()
            // One node keeps the Local provider's sealed root keys beside its SQLite store; read
            // after the store, so they hold every version the snapshot's keys name.
            if case .sqlite = try directory.storeLocation(),
                let sealed = FileManager.default.contents(atPath: directory.path + "/rootkeys.sealed")
            {
                snapshot.sharedValues[BackupFile.localRootKeys] = Array(sealed)
            }
            let bytes = try BackupFile.encode(snapshot, source: try directory.storeLocation().description)
            try BackupFile.writeExclusively(bytes, to: self.output)
            print(
                "backup of \(snapshot.tenants.count) tenants, \(snapshot.clients.count) trust rules and "
                    + "\(snapshot.objects.count) keys written to \(self.output)"
            )
        }
    }
}

/// `keystorm restore --in F`: a backup into an empty store (or, with `--force`, over one).
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into the store: all of it or nothing, its checksum verified first.",
        discussion: """
            Stop every server of this store first. A store that holds anything is refused unless
            --force, which replaces what it holds. The backup restores into either store, whatever
            store it came from: from sqlite into postgres://... is the way from one node to several.
            The data directory needs the master key the backup's root keys were sealed with.
            """
    )

    @OptionGroup var common: CommonOptions
    @Option(name: .customLong("in"), help: "The backup file.") var input: String
    @Flag(help: "Replace what the store holds.") var force = false

    func run() async throws {
        try await CommandErrors.presenting {
            if await AdminAPIClient.running(self.common) != nil {
                throw ControlError(.conflict, "a server is running on this data directory: stop it before restoring")
            }
            guard let bytes = FileManager.default.contents(atPath: self.input) else {
                throw ControlError(.notFound, "cannot read \(self.input)")
            }
            var snapshot = try BackupFile.decode(Array(bytes), path: self.input)
            let directory = try self.common.dataDirectory(self.common.resolver())
            if !directory.exists {
                // A new data directory: the next `keystorm serve` finishes its first start (server
                // certificate, test client) around the restored store.
                try directory.create()
                _ = FileManager.default.createFile(atPath: ServeDataDirectory.marker(directory), contents: nil)
            }
            try snapshot.validate()
            // One node keeps the sealed root keys beside its SQLite file: written once the store
            // took the rest, so a refused restore leaves no root keys behind.
            var sealedRootKeys: [UInt8]?
            if case .sqlite = try directory.storeLocation() {
                sealedRootKeys = snapshot.sharedValues.removeValue(forKey: BackupFile.localRootKeys)
                let path = directory.path + "/rootkeys.sealed"
                if sealedRootKeys != nil && !self.force && FileManager.default.fileExists(atPath: path) {
                    throw ControlError(.alreadyExists, "\(path) exists: restore with --force to replace it")
                }
            }
            let store = try await directory.openStore()
            do {
                try await store.restore(snapshot, replacing: self.force)
            } catch KeyStoreError.alreadyExists {
                throw ControlError(
                    .alreadyExists,
                    "the store is not empty: restore with --force to replace what it holds"
                )
            }
            if let sealedRootKeys {
                try Self.writeSealedRootKeys(sealedRootKeys, directory: directory.path, replacing: self.force)
            }
            print(
                "restored \(snapshot.tenants.count) tenants, \(snapshot.clients.count) trust rules and "
                    + "\(snapshot.objects.count) keys from \(self.input)"
            )
        }
    }

    /// The Local provider's sealed root keys of a one-node data directory.
    static func writeSealedRootKeys(_ sealed: [UInt8], directory: String, replacing: Bool) throws {
        let path = directory + "/rootkeys.sealed"
        if FileManager.default.fileExists(atPath: path) {
            guard replacing else {
                throw ControlError(.alreadyExists, "\(path) exists: restore with --force to replace it")
            }
            try FileManager.default.removeItem(atPath: path)
        }
        try BackupFile.writeExclusively(sealed, to: path)
    }
}

/// The backup file: a JSON document, then a last line `sha256 HEX` over the document's bytes.
enum BackupFile {
    /// Where a one-node backup carries the Local provider's sealed root keys (the name a shared
    /// store keeps them under).
    static let localRootKeys = "rootkeys.local.sealed"
    static let format = "keystorm-backup"

    struct Document: Codable {
        var format: String
        var version: Int
        var createdAt: String
        var source: String
        var tenants: [Tenant]
        var clients: [ClientRule]
        var objects: [Object]
        /// Base64, by name.
        var sharedValues: [String: String]
    }

    struct Object: Codable {
        var tenant: String
        var uniqueIdentifier: String
        var objectType: UInt32
        var state: UInt32
        var names: [String]
        /// Base64 of the stored attribute encoding.
        var attributes: String
        /// Base64 of the wrapped key, its root key and version; absent once destroyed.
        var wrappedKey: String?
        var rootKeyID: String?
        var rootKeyVersion: Int?
        var createdAt: Int64
        var updatedAt: Int64
        var revision: Int64
    }

    static func encode(_ snapshot: StoreSnapshot, source: String) throws -> [UInt8] {
        let document = Document(
            format: Self.format,
            version: 1,
            createdAt: Date().formatted(.iso8601),
            source: source,
            tenants: snapshot.tenants,
            clients: snapshot.clients,
            objects: snapshot.objects.map { object in
                Object(
                    tenant: object.tenantID,
                    uniqueIdentifier: object.uniqueIdentifier,
                    objectType: object.objectType,
                    state: object.state,
                    names: object.names,
                    attributes: Data(object.attributes).base64EncodedString(),
                    wrappedKey: object.wrappedKey.map { Data($0.ciphertext).base64EncodedString() },
                    rootKeyID: object.wrappedKey?.rootKeyID,
                    rootKeyVersion: object.wrappedKey?.rootKeyVersion,
                    createdAt: object.createdAt,
                    updatedAt: object.updatedAt,
                    revision: object.revision
                )
            },
            sharedValues: snapshot.sharedValues.mapValues { Data($0).base64EncodedString() }
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = Array(try encoder.encode(document)) + [UInt8(ascii: "\n")]
        let digest = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        return body + Array("sha256 \(digest)\n".utf8)
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> StoreSnapshot {
        func damaged(_ why: String) -> ControlError {
            ControlError(.badRequest, "\(path) is not a usable Keystorm backup: \(why)")
        }
        let newline = UInt8(ascii: "\n")
        guard bytes.last == newline, let split = bytes.dropLast().lastIndex(of: newline) else {
            throw damaged("its checksum line is missing (a truncated file?)")
        }
        let body = Array(bytes[...split])
        let trailer = String(decoding: bytes[(split + 1)...].dropLast(), as: UTF8.self)
        let digest = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        guard trailer == "sha256 \(digest)" else { throw damaged("its checksum does not match (damaged or edited)") }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(body))
        } catch {
            throw damaged("it does not decode")
        }
        guard document.format == Self.format, document.version == 1 else {
            throw damaged("format \(document.format) version \(document.version) is not one this Keystorm reads")
        }
        return try StoreSnapshot(
            tenants: document.tenants,
            clients: document.clients,
            objects: document.objects.map { object in
                guard let attributes = Data(base64Encoded: object.attributes) else { throw damaged("bad base64") }
                var wrapped: WrappedKeyRecord?
                if let text = object.wrappedKey {
                    guard let ciphertext = Data(base64Encoded: text), let rootKeyID = object.rootKeyID,
                        let version = object.rootKeyVersion
                    else { throw damaged("a wrapped key lacks its root key") }
                    wrapped = WrappedKeyRecord(
                        ciphertext: Array(ciphertext),
                        rootKeyID: rootKeyID,
                        rootKeyVersion: version
                    )
                }
                return StoredObject(
                    tenantID: object.tenant,
                    uniqueIdentifier: object.uniqueIdentifier,
                    objectType: object.objectType,
                    state: object.state,
                    names: object.names,
                    attributes: Array(attributes),
                    wrappedKey: wrapped,
                    createdAt: object.createdAt,
                    updatedAt: object.updatedAt,
                    revision: object.revision
                )
            },
            sharedValues: document.sharedValues.mapValues { text in
                guard let value = Data(base64Encoded: text) else { throw damaged("bad base64") }
                return Array(value)
            }
        )
    }

    /// Writes `bytes` to a new file `path` (owner-only; an existing file is never replaced) and
    /// syncs it.
    static func writeExclusively(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST { throw ControlError(.alreadyExists, "\(path) exists: choose another file") }
            throw ControlError.classifying(
                POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO),
                operation: "creating \(path)"
            )
        }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                let code = errno
                throw ControlError.classifying(
                    POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO),
                    operation: "writing \(path)"
                )
            }
            offset += written
        }
        guard fsync(fd) == 0 else {
            throw ControlError.classifying(
                POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO),
                operation: "syncing \(path)"
            )
        }
    }
}
