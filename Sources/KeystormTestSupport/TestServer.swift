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
public import KMIPModel
public import KMIPServer
public import KeyStore
public import RootKeys
import Synchronization

/// A complete KMIP server in a temporary directory: a real SQLite store, the real Local root-key
/// provider and a real audit log file; only the network is left out (requests go straight to the
/// batch executor). Tenants `tenant-a` and `tenant-b` exist.
public final class TestServer: Sendable {
    public let directory: String
    public let store: SQLiteKeyStore
    public let rootKeys: LocalRootKeyService
    public let executor: BatchExecutor
    public let auditPath: String
    /// The server's clock, which tests move by hand.
    public let clock: TestClock
    /// The key cache and unwrap batcher, when the test asked for them.
    public let keyAccess: KeyAccess?

    public static let tenantA = ClientIdentity(tenantID: "tenant-a", fingerprint: String(repeating: "a", count: 64))
    public static let tenantB = ClientIdentity(tenantID: "tenant-b", fingerprint: String(repeating: "b", count: 64))

    /// Creates the directory, the store, the root keys and the two tenants.
    ///
    /// - Parameters:
    ///   - configuration: The server's configuration.
    ///   - rootKeyService: The service the server uses, built on the real Local one (e.g. a
    ///     ``CountingRootKeyService``); the Local one itself by default.
    ///   - keyAccess: Builds the key cache and unwrap batcher on that service; none by default.
    ///   - storageReserve: Builds the data disk's reserve for the server's directory; none by default.
    public static func make(
        configuration: KMIPServerConfiguration = KMIPServerConfiguration(),
        rootKeyService: (LocalRootKeyService) -> any RootKeyService = { $0 },
        keyAccess: ((any RootKeyService) -> KeyAccess)? = nil,
        storageReserve: ((_ directory: String) -> StorageReserve)? = nil
    ) async throws -> TestServer {
        let directory = NSTemporaryDirectory() + "keystorm-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try SQLiteKeyStore(path: directory + "/keystorm.sqlite")
        let rootKeys = try await LocalRootKeyService.open(.init(dataDirectory: directory))
        let service = rootKeyService(rootKeys)
        let server = try TestServer(
            directory: directory,
            store: store,
            rootKeys: rootKeys,
            service: service,
            keyAccess: keyAccess?(service),
            storageReserve: storageReserve?(directory),
            configuration: configuration
        )
        for client in [tenantA, tenantB] {
            let handle = try await rootKeys.createRootKey(label: client.tenantID)
            try await store.createTenant(
                Tenant(
                    id: client.tenantID,
                    displayName: client.tenantID,
                    rootKey: RootKeyReference(provider: "local", keyID: handle.keyID, version: handle.version),
                    createdAt: 1_767_225_600
                )
            )
        }
        return server
    }

    private init(
        directory: String,
        store: SQLiteKeyStore,
        rootKeys: LocalRootKeyService,
        service: any RootKeyService,
        keyAccess: KeyAccess?,
        storageReserve: StorageReserve?,
        configuration: KMIPServerConfiguration
    ) throws {
        self.directory = directory
        self.keyAccess = keyAccess
        self.store = store
        self.rootKeys = rootKeys
        self.auditPath = directory + "/audit.log"
        let clock = TestClock(now: 1_767_225_600)
        self.clock = clock
        let core = KMIPServerCore(
            store: store,
            rootKeys: service,
            audit: try AuditLogFile(path: directory + "/audit.log"),
            configuration: configuration,
            clock: { clock.now },
            makeIdentifier: { UUID().uuidString.lowercased() },
            keyAccess: keyAccess,
            storageReserve: storageReserve
        )
        self.executor = BatchExecutor(core: core)
    }

    /// Moves the server's clock forward.
    public func advance(seconds: Int64) {
        self.clock.advance(seconds: seconds)
    }

    /// Sends raw request bytes and returns the raw response.
    public func send(_ bytes: [UInt8], as client: ClientIdentity = TestServer.tenantA) async -> [UInt8] {
        await self.executor.process(bytes, client: client)
    }

    /// Sends a request message and decodes the response.
    public func send(_ request: RequestMessage, as client: ClientIdentity = TestServer.tenantA) async throws -> ResponseMessage {
        try ResponseMessage(decoding: await self.send(request.encoded(), as: client))
    }

    /// Sends one operation and returns its single response item.
    public func call<P: KMIPRequestPayload>(
        _ payload: P,
        version: ProtocolVersion = .v1_1,
        as client: ClientIdentity = TestServer.tenantA
    ) async throws -> ResponseBatchItem {
        let response = try await self.send(RequestMessage(version: version, batchItems: [RequestBatchItem(payload)]), as: client)
        guard response.batchItems.count == 1 else {
            throw TestServerError(reason: "expected one response item, got \(response.batchItems.count)")
        }
        return response.batchItems[0]
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}

/// A clock that tests move by hand (seconds since the epoch).
public final class TestClock: Sendable {
    private let time: Mutex<Int64>

    public init(now: Int64) {
        self.time = Mutex(now)
    }

    public var now: Int64 { self.time.withLock { $0 } }

    public func advance(seconds: Int64) {
        self.time.withLock { $0 += seconds }
    }
}

/// A response that does not have the shape a test helper expects.
public struct TestServerError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { self.reason }

    public init(reason: String) {
        self.reason = reason
    }
}
