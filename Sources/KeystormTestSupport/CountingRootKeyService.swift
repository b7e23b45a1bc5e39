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

public import RootKeys
import Synchronization

/// A ``RootKeyService`` that forwards every call to a real one (no mocked cryptography) and counts
/// unwraps: how many, how many at once at most, and for which AADs. ``hold()`` parks unwraps before
/// they reach the real service until ``release()``, so tests can pile up concurrent callers.
public final class CountingRootKeyService: RootKeyService {
    private struct State {
        var unwrapCalls = 0
        var concurrent = 0
        var maxConcurrent = 0
        var callsByAAD: [[UInt8]: Int] = [:]
        var holding = false
        var parked: [CheckedContinuation<Void, Never>] = []
        var failure: RootKeyError?
        var batchSizes: [Int] = []
    }

    /// The real service every call goes to.
    public let base: any RootKeyService
    private let state = Mutex(State())

    /// - Parameters:
    ///   - base: The real service.
    ///   - batchLimit: Above 1, the service acts as a batch-native one: ``unwrap(batch:)`` takes up
    ///     to this many items per call (each still counted as an unwrap, and parked by ``hold()``).
    public init(wrapping base: any RootKeyService, batchLimit: Int = 1) {
        self.base = base
        self.unwrapBatchLimit = max(1, batchLimit)
    }

    public let unwrapBatchLimit: Int

    /// The size of every ``unwrap(batch:)`` call so far, in order.
    public var batchSizes: [Int] { self.state.withLock { $0.batchSizes } }

    public func unwrap(batch: [RootKeyBatchItem]) async -> [Result<UnwrapResult, any Error>] {
        self.state.withLock { $0.batchSizes.append(batch.count) }
        var results: [Result<UnwrapResult, any Error>] = []
        for item in batch {
            do {
                results.append(.success(try await self.unwrap(item.wrapped, rootKeyID: item.rootKeyID, aad: item.aad)))
            } catch {
                results.append(.failure(error))
            }
        }
        return results
    }

    public var providerName: String { self.base.providerName }

    /// Unwrap calls so far.
    public var unwrapCalls: Int { self.state.withLock { $0.unwrapCalls } }
    /// The most unwraps that were in this service at once (parked ones included).
    public var maxConcurrentUnwraps: Int { self.state.withLock { $0.maxConcurrent } }
    /// Unwraps in this service now.
    public var concurrentUnwraps: Int { self.state.withLock { $0.concurrent } }
    /// Unwraps parked by ``hold()`` now.
    public var parkedUnwraps: Int { self.state.withLock { $0.parked.count } }
    /// How many unwraps each AAD (each object) caused.
    public var unwrapCallsByAAD: [[UInt8]: Int] { self.state.withLock { $0.callsByAAD } }

    /// Parks every later unwrap until ``release()``.
    public func hold() {
        self.state.withLock { $0.holding = true }
    }

    /// Lets parked and later unwraps through.
    public func release() {
        let parked = self.state.withLock { state in
            state.holding = false
            defer { state.parked = [] }
            return state.parked
        }
        for continuation in parked { continuation.resume() }
    }

    /// Lets the oldest parked unwrap through (later ones still park). Returns whether there was one.
    @discardableResult
    public func releaseOne() -> Bool {
        let next = self.state.withLock { $0.parked.isEmpty ? nil : $0.parked.removeFirst() }
        next?.resume()
        return next != nil
    }

    /// Makes later unwraps fail with `error` (after parking), or succeed again with `nil`.
    public func failUnwraps(with error: RootKeyError?) {
        self.state.withLock { $0.failure = error }
    }

    public func unwrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> UnwrapResult {
        let park = self.state.withLock { state in
            state.unwrapCalls += 1
            state.concurrent += 1
            state.maxConcurrent = max(state.maxConcurrent, state.concurrent)
            state.callsByAAD[aad, default: 0] += 1
            return state.holding
        }
        defer { self.state.withLock { $0.concurrent -= 1 } }
        if park {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let parked = self.state.withLock { state in
                    guard state.holding else { return false }
                    state.parked.append(continuation)
                    return true
                }
                if !parked { continuation.resume() }
            }
        }
        if let failure = self.state.withLock({ $0.failure }) { throw failure }
        return try await self.base.unwrap(wrapped, rootKeyID: rootKeyID, aad: aad)
    }

    public func createRootKey(label: String) async throws -> RootKeyHandle {
        try await self.base.createRootKey(label: label)
    }

    public func wrap(_ plaintext: SecretBytes, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey {
        try await self.base.wrap(plaintext, rootKeyID: rootKeyID, aad: aad)
    }

    public func rewrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey {
        try await self.base.rewrap(wrapped, rootKeyID: rootKeyID, aad: aad)
    }

    public func rotate(rootKeyID: String) async throws -> RootKeyHandle {
        try await self.base.rotate(rootKeyID: rootKeyID)
    }

    public func delete(rootKeyID: String) async throws {
        try await self.base.delete(rootKeyID: rootKeyID)
    }

    public func info(rootKeyID: String) async throws -> RootKeyInfo {
        try await self.base.info(rootKeyID: rootKeyID)
    }
}
