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

public import Metrics
import Synchronization

/// A ``RootKeyService`` that counts and times every call of the service it wraps, by provider,
/// operation and result (`success`, `rate_limited`, `unavailable`, `deleted`, ...):
/// `keystorm_root_key_calls_total` and `keystorm_root_key_call_duration_seconds`; and records
/// how many ciphertexts each unwrap call carried (`keystorm_unwrap_batch_size`: 1 for a single
/// unwrap, the batch's size for ``unwrap(batch:)``). It forwards ``unwrapBatchLimit`` and
/// ``unwrap(batch:)`` so that the provider's native batching stays in use.
///
/// ```swift
/// let rootKeys = MeteredRootKeyService(try await LocalRootKeyService.open(configuration))
/// ```
public struct MeteredRootKeyService: RootKeyService {
    /// The service every call goes to.
    public let base: any RootKeyService
    private let handles: Handles

    /// - Parameters:
    ///   - base: The provider.
    ///   - factory: Where the metrics go; the process-wide one by default.
    public init(_ base: any RootKeyService, factory: any MetricsFactory = MetricsSystem.factory) {
        self.base = base
        self.handles = Handles(provider: base.providerName, factory: factory)
    }

    public var providerName: String { self.base.providerName }

    public func createRootKey(label: String) async throws -> RootKeyHandle {
        try await self.measure("create") { try await self.base.createRootKey(label: label) }
    }

    public func wrap(_ plaintext: SecretBytes, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey {
        try await self.measure("wrap") { try await self.base.wrap(plaintext, rootKeyID: rootKeyID, aad: aad) }
    }

    public func unwrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> UnwrapResult {
        self.handles.batchSize.record(1)
        return try await self.measure("unwrap") { try await self.base.unwrap(wrapped, rootKeyID: rootKeyID, aad: aad) }
    }

    public var unwrapBatchLimit: Int { self.base.unwrapBatchLimit }

    public func unwrap(batch: [RootKeyBatchItem]) async -> [Result<UnwrapResult, any Error>] {
        self.handles.batchSize.record(batch.count)
        let start = ContinuousClock.now
        let results = await self.base.unwrap(batch: batch)
        let elapsed = ContinuousClock.now - start
        for result in results {
            switch result {
            case .success: self.handles.record("unwrap", result: nil, elapsed: elapsed)
            case .failure(let error): self.handles.record("unwrap", result: error, elapsed: elapsed)
            }
        }
        return results
    }

    public func rewrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey {
        try await self.measure("rewrap") { try await self.base.rewrap(wrapped, rootKeyID: rootKeyID, aad: aad) }
    }

    public func rotate(rootKeyID: String) async throws -> RootKeyHandle {
        try await self.measure("rotate") { try await self.base.rotate(rootKeyID: rootKeyID) }
    }

    public func delete(rootKeyID: String) async throws {
        try await self.measure("delete") { try await self.base.delete(rootKeyID: rootKeyID) }
    }

    public func info(rootKeyID: String) async throws -> RootKeyInfo {
        try await self.measure("info") { try await self.base.info(rootKeyID: rootKeyID) }
    }

    private func measure<T: Sendable>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        do {
            let value = try await body()
            self.handles.record(operation, result: nil, elapsed: ContinuousClock.now - start)
            return value
        } catch {
            self.handles.record(operation, result: error, elapsed: ContinuousClock.now - start)
            throw error
        }
    }

    /// The handles, made on first use per operation and result and then reused.
    private final class Handles: Sendable {
        let provider: String
        let factory: any MetricsFactory
        let batchSize: Recorder
        private let counters = Mutex<[String: Counter]>([:])
        private let timers = Mutex<[String: Metrics.Timer]>([:])

        init(provider: String, factory: any MetricsFactory) {
            self.provider = provider
            self.factory = factory
            self.batchSize = Recorder(
                label: RootKeysMetricNames.unwrapBatchSize,
                dimensions: [("provider", provider)],
                aggregate: true,
                factory: factory
            )
        }

        func record(_ operation: String, result error: (any Error)?, elapsed: Duration) {
            let result = RootKeysMetricNames.result(error)
            let counter = self.counters.withLock { counters in
                let key = operation + "/" + result
                if let existing = counters[key] { return existing }
                let made = Counter(
                    label: RootKeysMetricNames.rootKeyCalls,
                    dimensions: [("provider", self.provider), ("operation", operation), ("result", result)],
                    factory: self.factory
                )
                counters[key] = made
                return made
            }
            let timer = self.timers.withLock { timers in
                if let existing = timers[operation] { return existing }
                let made = Metrics.Timer(
                    label: RootKeysMetricNames.rootKeyCallDuration,
                    dimensions: [("provider", self.provider), ("operation", operation)],
                    factory: self.factory
                )
                timers[operation] = made
                return made
            }
            counter.increment()
            timer.record(duration: elapsed)
        }
    }
}
