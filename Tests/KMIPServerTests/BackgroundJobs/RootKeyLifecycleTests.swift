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

import KMIPCodec
import KMIPModel
import KMIPServer
import KeyStore
import KeystormTestSupport
import RootKeys
import Synchronization
import Testing

/// A test server with a key cache and unwrap batcher, over the real Local provider.
private func cachedServer(
    rootKeyService: @escaping (LocalRootKeyService) -> any RootKeyService = { $0 }
) async throws -> TestServer {
    try await TestServer.make(
        rootKeyService: rootKeyService,
        keyAccess: { service in KeyAccess(service: service) }
    )
}

extension TestServer {
    /// The key material a Get returns, or the failed item.
    fileprivate func material(
        _ uid: UniqueIdentifier,
        as client: ClientIdentity = TestServer.tenantA
    ) async throws -> Result<[UInt8], KMIPError> {
        let item = try await self.call(GetRequest(uniqueIdentifier: uid), as: client)
        guard case .get(let get)? = item.payload, let bytes = get.object.keyBlock?.keyMaterialBytes else {
            return .failure(KMIPError(item.resultReason ?? .generalFailure, item.resultMessage ?? ""))
        }
        return .success(bytes)
    }

    fileprivate func tenantRecord(_ id: String = TestServer.tenantA.tenantID) async throws -> Tenant {
        try #require(try await self.store.tenant(id: id))
    }

    /// Rotates a tenant's root key in the Local service and records the new version, as
    /// `keystorm root-key rotate` does.
    fileprivate func rotate(_ id: String = TestServer.tenantA.tenantID) async throws -> Tenant {
        var tenant = try await self.tenantRecord(id)
        let handle = try await self.rootKeys.rotate(rootKeyID: tenant.rootKey.keyID)
        tenant.rootKey.version = handle.version
        try await self.store.updateTenant(tenant)
        return tenant
    }

    fileprivate func versions(_ id: String = TestServer.tenantA.tenantID) async throws -> [Int: Int] {
        try await RootKeyCensus.count(self.store, tenantID: id).keysByVersion
    }
}

/// A Local service that, like Key Protect after a rotation, hands back the ciphertext re-wrapped
/// under the current version with every unwrap of an older one.
private final class RewrappingOnUnwrap: RootKeyService {
    let base: LocalRootKeyService
    init(_ base: LocalRootKeyService) { self.base = base }
    var providerName: String { self.base.providerName }
    func createRootKey(label: String) async throws -> RootKeyHandle { try await self.base.createRootKey(label: label) }
    func wrap(_ plaintext: SecretBytes, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey {
        try await self.base.wrap(plaintext, rootKeyID: rootKeyID, aad: aad)
    }
    func unwrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> UnwrapResult {
        var result = try await self.base.unwrap(wrapped, rootKeyID: rootKeyID, aad: aad)
        if try self.base.info(rootKeyID: rootKeyID).currentVersion > wrapped.rootKeyVersion {
            result.rewrapped = try await self.base.rewrap(wrapped, rootKeyID: rootKeyID, aad: aad)
        }
        return result
    }
    func rewrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey {
        try await self.base.rewrap(wrapped, rootKeyID: rootKeyID, aad: aad)
    }
    func rotate(rootKeyID: String) async throws -> RootKeyHandle { try await self.base.rotate(rootKeyID: rootKeyID) }
    func delete(rootKeyID: String) async throws { try await self.base.delete(rootKeyID: rootKeyID) }
    func info(rootKeyID: String) async throws -> RootKeyInfo { try self.base.info(rootKeyID: rootKeyID) }
}

/// A Local service whose re-wraps fail with "unavailable" after the first `budget`.
private final class RewrapBudget: RootKeyService {
    let base: LocalRootKeyService
    let left: Mutex<Int>
    init(_ base: LocalRootKeyService, budget: Int) {
        self.base = base
        self.left = Mutex(budget)
    }
    var providerName: String { self.base.providerName }
    func createRootKey(label: String) async throws -> RootKeyHandle { try await self.base.createRootKey(label: label) }
    func wrap(_ plaintext: SecretBytes, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey {
        try await self.base.wrap(plaintext, rootKeyID: rootKeyID, aad: aad)
    }
    func unwrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> UnwrapResult {
        try await self.base.unwrap(wrapped, rootKeyID: rootKeyID, aad: aad)
    }
    func rewrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey {
        let allowed = self.left.withLock { left in
            defer { left -= 1 }
            return left > 0
        }
        guard allowed else { throw RootKeyError(.unavailable, reason: "test: the service went away") }
        return try await self.base.rewrap(wrapped, rootKeyID: rootKeyID, aad: aad)
    }
    func rotate(rootKeyID: String) async throws -> RootKeyHandle { try await self.base.rotate(rootKeyID: rootKeyID) }
    func delete(rootKeyID: String) async throws { try await self.base.delete(rootKeyID: rootKeyID) }
    func info(rootKeyID: String) async throws -> RootKeyInfo { try self.base.info(rootKeyID: rootKeyID) }
}

@Suite("Root-key lifecycle: shred, disable, rotation and re-wrap")
struct RootKeyLifecycleTests {
    @Test("after the root key is deleted, no Get returns material, cached or not, and the error says so")
    func shred() async throws {
        let server = try await cachedServer()
        let keyAccess = try #require(server.keyAccess)
        let monitor = RootKeyMonitor(store: server.store, service: server.rootKeys, keyAccess: keyAccess)
        let cached = try await server.createKey()
        let uncached = try await server.createKey()
        let other = try await server.createKey(as: TestServer.tenantB)
        let material = try await server.material(cached).get()
        #expect(try await server.material(cached).get() == material)
        #expect(keyAccess.cache.statistics.entries == 1)
        await monitor.poll()

        let tenant = try await server.tenantRecord()
        try await server.rootKeys.delete(rootKeyID: tenant.rootKey.keyID)
        await monitor.poll()

        #expect(keyAccess.cache.statistics.entries == 0)
        for uid in [cached, uncached] {
            let failure = try await server.material(uid)
            guard case .failure(let error) = failure else {
                Issue.record("a Get after the shred returned key material")
                continue
            }
            #expect(error.reason == .permissionDenied)
            #expect(error.message == "root key of tenant tenant-a is deleted: key material is shredded")
        }
        // Another tenant is untouched.
        #expect((try? await server.material(other, as: TestServer.tenantB).get()) != nil)
        // New keys cannot be made under a deleted root key either.
        let create = try await server.call(aes256Create())
        expectFailure(create, .permissionDenied)
        #expect(create.resultMessage == "root key of tenant tenant-a is deleted: key material is shredded")
    }

    @Test("a disabled root key refuses Gets, cached ones too, until it is enabled again")
    func disable() async throws {
        let server = try await cachedServer()
        let keyAccess = try #require(server.keyAccess)
        let monitor = RootKeyMonitor(store: server.store, service: server.rootKeys, keyAccess: keyAccess)
        let uid = try await server.createKey()
        let material = try await server.material(uid).get()
        let tenant = try await server.tenantRecord()

        try await server.rootKeys.disable(rootKeyID: tenant.rootKey.keyID)
        await monitor.poll()
        guard case .failure(let error) = try await server.material(uid) else {
            Issue.record("a Get under a disabled root key returned key material")
            return
        }
        #expect(error.reason == .permissionDenied)
        #expect(error.message == "root key of tenant tenant-a is disabled")

        try await server.rootKeys.enable(rootKeyID: tenant.rootKey.keyID)
        await monitor.poll()
        #expect(try await server.material(uid).get() == material)
    }

    @Test("key material that does not authenticate is a Cryptographic Failure")
    func tampered() async throws {
        let server = try await cachedServer()
        let uid = try await server.createKey()
        var stored = try #require(try await server.store.object(tenantID: "tenant-a", uniqueIdentifier: uid.text ?? ""))
        var wrapped = try #require(stored.wrappedKey)
        wrapped.ciphertext[wrapped.ciphertext.count - 1] ^= 0x01
        stored.wrappedKey = wrapped
        try await server.store.update(stored, expectedRevision: stored.revision)
        guard case .failure(let error) = try await server.material(uid) else {
            Issue.record("tampered key material was returned")
            return
        }
        #expect(error.reason == .cryptographicFailure)
    }

    @Test("rotation re-wraps every key to the new version; Gets work during and after")
    func rotation() async throws {
        let server = try await cachedServer()
        var uids: [UniqueIdentifier] = []
        var material: [String: [UInt8]] = [:]
        for _ in 0..<40 {
            let uid = try await server.createKey()
            uids.append(uid)
            material[uid.text ?? ""] = try await server.material(uid).get()
        }
        let otherUID = try await server.createKey(as: TestServer.tenantB)
        #expect(try await server.versions() == [1: 40])

        let tenant = try await server.rotate()
        #expect(tenant.rootKey.version == 2)
        server.keyAccess?.cache.removeAll()
        let rewrapper = RootKeyRewrapper(
            store: server.store,
            service: server.rootKeys,
            configuration: .init(rate: 2_000, batchSize: 7)
        )
        // Gets (uncached, so every one unwraps) run while the job re-wraps.
        let job = Task { await rewrapper.runOnce() }
        for round in 0..<3 {
            for uid in uids {
                if round > 0 {
                    server.keyAccess?.purge(KeyCache.Key(tenantID: "tenant-a", uniqueIdentifier: uid.text ?? ""))
                }
                #expect(try await server.material(uid).get() == material[uid.text ?? ""])
            }
        }
        #expect(await job.value >= 30)
        // Keys a Get touched may have conflicted with the job: another pass finishes them.
        await rewrapper.runOnce()
        #expect(try await server.versions() == [2: 40])
        #expect(try await server.versions("tenant-b") == [1: 1])
        let progress = try #require(rewrapper.progress.first { $0.tenantID == "tenant-a" })
        #expect(progress.remaining == 0)
        #expect(progress.targetVersion == 2)
        #expect(progress.rewrapped == 40)
        #expect(!progress.running)
        server.keyAccess?.cache.removeAll()
        for uid in uids { #expect(try await server.material(uid).get() == material[uid.text ?? ""]) }
        #expect((try? await server.material(otherUID, as: TestServer.tenantB).get()) != nil)
        // New keys are wrapped under the new version.
        let fresh = try await server.createKey()
        let stored = try #require(
            try await server.store.object(tenantID: "tenant-a", uniqueIdentifier: fresh.text ?? "")
        )
        #expect(stored.wrappedKey?.rootKeyVersion == 2)
    }

    @Test("an interrupted re-wrap goes on where it stopped, from what the store says")
    func resumes() async throws {
        let server = try await cachedServer()
        var material: [String: [UInt8]] = [:]
        for _ in 0..<30 {
            let uid = try await server.createKey()
            material[uid.text ?? ""] = try await server.material(uid).get()
        }
        let tenant = try await server.rotate()
        // The first run loses its root-key service after 12 re-wraps (a crash would stop it the same way).
        let first = RootKeyRewrapper(
            store: server.store,
            service: RewrapBudget(server.rootKeys, budget: 12),
            configuration: .init(rate: 5_000, batchSize: 10)
        )
        #expect(try await first.rewrap(tenant: tenant) == 12)
        #expect(try await server.versions() == [1: 18, 2: 12])
        // A new process (a restart) needs nothing but the store to finish.
        let second = RootKeyRewrapper(store: server.store, service: server.rootKeys, configuration: .init(rate: 5_000))
        #expect(await second.runOnce() == 18)
        #expect(try await server.versions() == [2: 30])
        server.keyAccess?.cache.removeAll()
        for (uid, bytes) in material { #expect(try await server.material(.text(uid)).get() == bytes) }
    }

    @Test("a ciphertext the service re-wrapped during an unwrap is stored")
    func storesRewrapped() async throws {
        let server = try await cachedServer(rootKeyService: { RewrappingOnUnwrap($0) })
        let uid = try await server.createKey()
        let material = try await server.material(uid).get()
        _ = try await server.rotate()
        server.keyAccess?.cache.removeAll()
        #expect(try await server.material(uid).get() == material)
        let stored = try #require(try await server.store.object(tenantID: "tenant-a", uniqueIdentifier: uid.text ?? ""))
        #expect(stored.wrappedKey?.rootKeyVersion == 2)
        server.keyAccess?.cache.removeAll()
        #expect(try await server.material(uid).get() == material)
    }

    @Test("a root key rotated in the service directly moves the tenant's record, which the re-wrap follows")
    func followsServiceRotation() async throws {
        let server = try await cachedServer()
        _ = try await server.createKey()
        let tenant = try await server.tenantRecord()
        _ = try await server.rootKeys.rotate(rootKeyID: tenant.rootKey.keyID)
        let monitor = RootKeyMonitor(store: server.store, service: server.rootKeys, keyAccess: server.keyAccess)
        await monitor.poll()
        #expect(try await server.tenantRecord().rootKey.version == 2)
        let rewrapper = RootKeyRewrapper(
            store: server.store,
            service: server.rootKeys,
            configuration: .init(rate: 5_000)
        )
        #expect(await rewrapper.runOnce() == 1)
        #expect(try await server.versions() == [2: 1])
    }

    @Test("prewarm caches a tenant's most recent keys through the batcher")
    func prewarm() async throws {
        let server = try await cachedServer()
        let keyAccess = try #require(server.keyAccess)
        var uids: [UniqueIdentifier] = []
        for _ in 0..<12 { uids.append(try await server.createKey()) }
        keyAccess.cache.removeAll()
        let result = try await Prewarmer(store: server.store, keyAccess: keyAccess).prewarm(
            tenant: "tenant-a",
            recent: 5
        )
        #expect(result.considered == 5)
        #expect(result.warmed == 5)
        #expect(result.failed == 0)
        for uid in uids.suffix(5) {
            #expect(keyAccess.cache.contains(KeyCache.Key(tenantID: "tenant-a", uniqueIdentifier: uid.text ?? "")))
        }
        for uid in uids.prefix(7) {
            #expect(!keyAccess.cache.contains(KeyCache.Key(tenantID: "tenant-a", uniqueIdentifier: uid.text ?? "")))
        }
    }
}
