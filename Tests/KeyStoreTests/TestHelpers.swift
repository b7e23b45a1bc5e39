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
import Testing

/// A fresh database file in its own temporary directory, removed afterwards.
func withTemporaryDatabase<T>(_ body: (_ path: String) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("keystorm-store-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory.appendingPathComponent("keystorm.sqlite").path)
}

/// A migrated store on a fresh file.
func withTemporaryStore<T>(
    configuration: SQLiteKeyStore.Configuration = SQLiteKeyStore.Configuration(),
    _ body: (SQLiteKeyStore, _ path: String) async throws -> T
) async throws -> T {
    try await withTemporaryDatabase { path in
        let store = try SQLiteKeyStore(path: path, configuration: configuration)
        defer { try? store.close() }
        return try await body(store, path)
    }
}

/// Expects `body` to throw a ``KeyStoreError`` with `code`.
func expectKeyStoreError(
    _ code: KeyStoreError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected KeyStoreError.\(code), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as KeyStoreError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected KeyStoreError.\(code), got \(error)", sourceLocation: sourceLocation)
    }
}

/// Sample tenants, rules and objects.
enum Sample {
    static func tenant(_ id: String, version: Int = 1) -> Tenant {
        Tenant(
            id: id,
            displayName: "Tenant \(id)",
            rootKey: RootKeyReference(provider: "local", keyID: "root-\(id)", version: version),
            createdAt: 1_700_000_000
        )
    }

    static func client(_ id: String, tenantID: String, fingerprint: String? = nil) -> ClientRule {
        ClientRule(
            id: id,
            tenantID: tenantID,
            kind: .pinnedCertificate,
            fingerprint: fingerprint ?? String(repeating: "ab", count: 32),
            certificatePEM: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            label: "vcenter-\(id)",
            createdAt: 1_700_000_100
        )
    }

    static func object(
        tenantID: String,
        uid: String,
        objectType: UInt32 = 2,
        state: UInt32 = 2,
        names: [String] = [],
        createdAt: Int64 = 1_700_000_200,
        rootKeyVersion: Int? = 1
    ) -> StoredObject {
        StoredObject(
            tenantID: tenantID,
            uniqueIdentifier: uid,
            objectType: objectType,
            state: state,
            names: names,
            attributes: [0x42, 0x01, 0x25, 0x01, 0x00, 0x00, 0x00, 0x00],
            wrappedKey: rootKeyVersion.map {
                WrappedKeyRecord(
                    ciphertext: Array(repeating: 0xC5, count: 60),
                    rootKeyID: "root-\(tenantID)",
                    rootKeyVersion: $0
                )
            },
            createdAt: createdAt,
            updatedAt: createdAt
        )
    }
}
