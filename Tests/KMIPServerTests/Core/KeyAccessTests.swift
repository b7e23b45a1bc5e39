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
import KeystormTestSupport
import RootKeys
import Synchronization
import Testing

/// A test server whose Gets go through a key cache and unwrap batcher on a manual clock, in front
/// of the real Local provider wrapped in a counting double.
private struct CachedServer {
    let server: TestServer
    let counting: CountingRootKeyService
    let clock: ManualClock
    var keyAccess: KeyAccess { self.server.keyAccess! }

    static func make(timeout: Duration = .seconds(10), maxInFlight: Int = 64) async throws -> CachedServer {
        let clock = ManualClock()
        let counting = Mutex<CountingRootKeyService?>(nil)
        let server = try await TestServer.make(
            rootKeyService: { local in
                let service = CountingRootKeyService(wrapping: local)
                counting.withLock { $0 = service }
                return service
            },
            keyAccess: { service in
                KeyAccess(
                    service: service,
                    configuration: .init(batcher: .init(maxInFlight: maxInFlight, timeout: timeout)),
                    clock: clock
                )
            }
        )
        return CachedServer(server: server, counting: counting.withLock { $0! }, clock: clock)
    }

    /// The key material a Get returns, or `nil` when it failed.
    func get(_ uid: UniqueIdentifier) async throws -> [UInt8]? {
        let item = try await self.server.call(GetRequest(uniqueIdentifier: uid))
        guard case .get(let get)? = item.payload else { return nil }
        return get.object.keyBlock?.keyMaterialBytes
    }
}

@Suite("KeyAccess in the KMIP server")
struct KeyAccessTests {
    @Test("1,000 concurrent Gets of 10 keys cause exactly 10 unwraps, at most 4 at a time")
    func bootStorm() async throws {
        let cached = try await CachedServer.make(maxInFlight: 4)
        var uids: [UniqueIdentifier] = []
        var material: [String: [UInt8]] = [:]
        for _ in 0..<10 {
            let uid = try await cached.server.createKey()
            uids.append(uid)
            // A first Get clears the Fresh attribute (a write); the storm then only reads.
            let bytes: [UInt8] = try #require(try await cached.get(uid))
            material[uid.text ?? ""] = bytes
        }
        #expect(cached.counting.unwrapCalls == 10)
        cached.keyAccess.cache.removeAll()

        cached.counting.hold()
        let answers = try await withThrowingTaskGroup(of: (String, [UInt8]?).self) { group in
            for caller in 0..<1_000 {
                let uid = uids[caller % 10]
                group.addTask { (uid.text ?? "", try await cached.get(uid)) }
            }
            try await eventually("4 unwraps park, 6 queue and 990 Gets join them") {
                cached.counting.parkedUnwraps == 4 && cached.keyAccess.batcher.statistics.queued == 6
                    && cached.keyAccess.batcher.statistics.coalesced == 990
            }
            cached.counting.release()
            var answers: [(String, [UInt8]?)] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }
        #expect(answers.count == 1_000)
        #expect(answers.allSatisfy { $0.1 != nil && $0.1 == material[$0.0] })
        #expect(cached.counting.unwrapCalls == 20)
        #expect(cached.counting.maxConcurrentUnwraps == 4)
        // Warm: another round costs no unwrap at all.
        for uid in uids { #expect(try await cached.get(uid) == material[uid.text ?? ""]) }
        #expect(cached.counting.unwrapCalls == 20)
        #expect(cached.keyAccess.cache.statistics.hits >= 10)
    }

    @Test("a Get past the unwrap deadline fails with Operation Failed, General Failure")
    func deadline() async throws {
        let cached = try await CachedServer.make(timeout: .seconds(5))
        let uid = try await cached.server.createKey()
        cached.counting.hold()
        let get = Task { try await cached.server.call(GetRequest(uniqueIdentifier: uid)) }
        try await eventually("the unwrap parks and the Get's deadline sleeps") {
            cached.counting.parkedUnwraps == 1 && cached.clock.sleepers == 1
        }
        cached.clock.advance(by: .seconds(5))
        let item = try await get.value
        expectFailure(item, .generalFailure)
        #expect(item.resultMessage?.contains("root key service unavailable") == true, "\(item.resultMessage ?? "")")
        cached.counting.release()
        // The unwrap finished for the cache: the next Get works without another unwrap.
        try await eventually("the unwrap fills the cache") { cached.keyAccess.cache.statistics.entries == 1 }
        #expect(try await cached.get(uid) != nil)
        #expect(cached.counting.unwrapCalls == 1)
    }

    @Test("Gets after Revoke and after Destroy do not come from the cache")
    func revokeAndDestroyPurge() async throws {
        let cached = try await CachedServer.make()
        let uid = try await cached.server.createKey()
        #expect(try await cached.server.call(ActivateRequest(uniqueIdentifier: uid)).resultStatus == .success)
        let material = try #require(try await cached.get(uid))
        #expect(try await cached.get(uid) == material)
        #expect(cached.counting.unwrapCalls == 1)
        #expect(cached.keyAccess.cache.statistics.hits == 1)

        let revoked = try await cached.server.call(
            RevokeRequest(uniqueIdentifier: uid, revocationReason: RevocationReason(code: .cessationOfOperation))
        )
        #expect(revoked.resultStatus == .success)
        #expect(cached.keyAccess.cache.statistics.entries == 0)
        // A Deactivated key is still served, but unwrapped afresh.
        #expect(try await cached.get(uid) == material)
        #expect(cached.counting.unwrapCalls == 2)
        #expect(cached.keyAccess.cache.statistics.hits == 1)

        #expect(try await cached.server.call(DestroyRequest(uniqueIdentifier: uid)).resultStatus == .success)
        #expect(cached.keyAccess.cache.statistics.entries == 0)
        expectFailure(try await cached.server.call(GetRequest(uniqueIdentifier: uid)), .itemNotFound)
        #expect(cached.counting.unwrapCalls == 2)
        #expect(cached.keyAccess.cache.statistics.hits == 1)
    }

    @Test("another tenant's Get of a cached key is Item Not Found")
    func tenantIsolation() async throws {
        let cached = try await CachedServer.make()
        let uid = try await cached.server.createKey()
        #expect(try await cached.get(uid) != nil)
        let other = try await cached.server.call(GetRequest(uniqueIdentifier: uid), as: TestServer.tenantB)
        expectFailure(other, .itemNotFound)
    }
}
