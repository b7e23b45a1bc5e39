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
import KMIPCodec
import KMIPModel
import KMIPServer
import KeyStore
import KeystormControl
import KeystormSpawn
import RootKeys
import Synchronization

/// A temporary data directory with its PKI, an SQLite store, the Local root-key service and a
/// tenant `t1`, and the control plane over them. Removed when released.
final class ControlFixture: Sendable {
    let layout: DataDirectoryLayout
    let store: SQLiteKeyStore
    let rootKeys: LocalRootKeyService
    let control: ControlPlane

    private init(layout: DataDirectoryLayout, store: SQLiteKeyStore, rootKeys: LocalRootKeyService) {
        self.layout = layout
        self.store = store
        self.rootKeys = rootKeys
        self.control = ControlPlane(store: store, rootKeys: rootKeys, directory: layout)
    }

    static func make(tenant: String? = "t1") async throws -> ControlFixture {
        let layout = DataDirectoryLayout(path: NSTemporaryDirectory() + "keystorm-control-" + UUID().uuidString)
        try layout.create()
        try layout.ensurePKI(hostnames: ["localhost"])
        let store = try SQLiteKeyStore(path: layout.storePath)
        let rootKeys = try await LocalRootKeyService.open(.init(dataDirectory: layout.path))
        let fixture = ControlFixture(layout: layout, store: store, rootKeys: rootKeys)
        if let tenant { _ = try await fixture.control.createTenant(id: tenant, displayName: nil) }
        return fixture
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.layout.path)
    }

    /// Creates an AES-256 key for `tenant` with KMIP Create and Activate, as vCenter does, and
    /// returns its id.
    func createKey(tenant: String = "t1") async throws -> String {
        let create = CreateRequest(
            objectType: .symmetricKey,
            attributes: [
                Attribute(.cryptographicAlgorithm, .enumeration(CryptographicAlgorithm.aes.rawValue)),
                Attribute(.cryptographicUsageMask, .integer(12)),
                Attribute(.cryptographicLength, .integer(256)),
            ]
        )
        guard case .create(let created)? = try await self.send(create, tenant: tenant).payload,
            let uid = created.uniqueIdentifier.text
        else {
            throw FixtureError("Create failed")
        }
        let activated = try await self.send(ActivateRequest(uniqueIdentifier: .text(uid)), tenant: tenant)
        guard activated.resultStatus == .success else { throw FixtureError("Activate failed") }
        return uid
    }

    /// Runs one KMIP operation as a client of `tenant`.
    private func send<P: KMIPRequestPayload>(_ payload: P, tenant: String) async throws -> ResponseBatchItem {
        let core = KMIPServerCore(
            store: self.store,
            rootKeys: self.rootKeys,
            audit: nil,
            clock: { Int64(Date().timeIntervalSince1970) },
            makeIdentifier: { UUID().uuidString.lowercased() }
        )
        let request = RequestMessage(version: .v1_1, batchItems: [RequestBatchItem(payload)])
        let bytes = await BatchExecutor(core: core).process(
            request.encoded(),
            client: ClientIdentity(tenantID: tenant, fingerprint: String(repeating: "c", count: 64))
        )
        guard let item = try ResponseMessage(decoding: bytes).batchItems.first else {
            throw FixtureError("no response item")
        }
        return item
    }

    /// A server-side control plane whose rule hook counts its calls.
    func serverControl(rulesApplied: RuleCounter) -> ServerControl {
        ServerControl(
            control: self.control,
            keyAccess: KeyAccess(service: self.rootKeys),
            hooks: ServerControl.Hooks(clientRulesChanged: { rulesApplied.increment() })
        )
    }
}

/// Counts how often the server's rules were reloaded.
final class RuleCounter: Sendable {
    private let count = Mutex(0)
    func increment() { self.count.withLock { $0 += 1 } }
    var value: Int { self.count.withLock { $0 } }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// `/usr/bin/openssl` in a temporary directory, for certificates and CSRs made as vCenter makes them.
enum OpenSSL {
    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") }

    /// A self-signed certificate (PEM) whose only extensions are basicConstraints CA:FALSE and `extensions`.
    static func selfSigned(extensions: [String]) throws -> String {
        try self.inTemporaryDirectory { directory in
            let config = """
                [req]
                distinguished_name = dn
                prompt = no
                x509_extensions = ext
                req_extensions = ext
                [dn]
                CN = vcenter.example.com
                [ext]
                basicConstraints = critical,CA:FALSE
                \(extensions.joined(separator: "\n"))

                """
            try config.write(toFile: directory + "/req.cnf", atomically: true, encoding: .utf8)
            try self.run(
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
                    "-config", "req.cnf", "-keyout", "vc.key", "-out", "vc.pem",
                ],
                in: directory
            )
            return try String(contentsOfFile: directory + "/vc.pem", encoding: .utf8)
        }
    }

    /// A CSR (PEM) for CN `name`, with an RSA-2048 key as vCenter makes them.
    static func csr(commonName name: String) throws -> String {
        try self.inTemporaryDirectory { directory in
            try self.run(
                [
                    "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "vc.key", "-out", "vc.csr",
                    "-subj", "/CN=\(name)",
                ],
                in: directory
            )
            return try String(contentsOfFile: directory + "/vc.csr", encoding: .utf8)
        }
    }

    private static func inTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let directory = NSTemporaryDirectory() + "keystorm-openssl-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try body(directory)
    }

    private static func run(_ arguments: [String], in directory: String) throws {
        let result = try ChildProcess.runBlocking(
            "/usr/bin/openssl",
            arguments,
            directory: directory,
            timeout: .seconds(60)
        )
        guard result.succeeded else {
            throw FixtureError("openssl \(arguments.first ?? "") exited \(result.status): \(result.output)")
        }
    }
}
