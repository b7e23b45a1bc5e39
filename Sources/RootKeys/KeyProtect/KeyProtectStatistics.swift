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

import Synchronization

extension KeyProtectRootKeyService {
    /// A snapshot of the provider's counters since it started (read without a lock).
    public struct Statistics: Hashable, Sendable {
        /// HTTP requests sent to the Key Protect API (`/api/v2`), retries included.
        public var requests: Int
        /// Attempts made again after a 429, a 5xx or a connection failure.
        public var retries: Int
        /// 429 answers (from the API or IAM).
        public var rateLimited: Int
        /// 5xx answers (from the API or IAM).
        public var serverErrors: Int
        /// Requests that got no HTTP answer (refused, reset, timed out).
        public var connectionErrors: Int
        /// Tokens fetched from IAM.
        public var tokenRefreshes: Int
        /// 401 answers that made the provider fetch a new token and try once more.
        public var unauthorizedRetries: Int
        /// Calls that gave up after their retries or budget ran out.
        public var exhausted: Int
        /// Calls failed at once, without a request, because Key Protect had not answered the calls
        /// before them (``KeyProtectRootKeyService/Configuration/outageThreshold``).
        public var outageRefusals: Int
    }
}

/// The atomic counters behind ``KeyProtectRootKeyService/Statistics``.
final class KeyProtectCounters: Sendable {
    let requests = Atomic<Int>(0)
    let retries = Atomic<Int>(0)
    let rateLimited = Atomic<Int>(0)
    let serverErrors = Atomic<Int>(0)
    let connectionErrors = Atomic<Int>(0)
    let tokenRefreshes = Atomic<Int>(0)
    let unauthorizedRetries = Atomic<Int>(0)
    let exhausted = Atomic<Int>(0)
    let outageRefusals = Atomic<Int>(0)

    enum Counter {
        case requests, retries, rateLimited, serverErrors, connectionErrors, tokenRefreshes, unauthorizedRetries
        case exhausted, outageRefusals
    }

    func increment(_ counter: Counter) {
        switch counter {
        case .requests: self.requests.wrappingAdd(1, ordering: .relaxed)
        case .retries: self.retries.wrappingAdd(1, ordering: .relaxed)
        case .rateLimited: self.rateLimited.wrappingAdd(1, ordering: .relaxed)
        case .serverErrors: self.serverErrors.wrappingAdd(1, ordering: .relaxed)
        case .connectionErrors: self.connectionErrors.wrappingAdd(1, ordering: .relaxed)
        case .tokenRefreshes: self.tokenRefreshes.wrappingAdd(1, ordering: .relaxed)
        case .unauthorizedRetries: self.unauthorizedRetries.wrappingAdd(1, ordering: .relaxed)
        case .exhausted: self.exhausted.wrappingAdd(1, ordering: .relaxed)
        case .outageRefusals: self.outageRefusals.wrappingAdd(1, ordering: .relaxed)
        }
    }

    var snapshot: KeyProtectRootKeyService.Statistics {
        KeyProtectRootKeyService.Statistics(
            requests: self.requests.load(ordering: .relaxed),
            retries: self.retries.load(ordering: .relaxed),
            rateLimited: self.rateLimited.load(ordering: .relaxed),
            serverErrors: self.serverErrors.load(ordering: .relaxed),
            connectionErrors: self.connectionErrors.load(ordering: .relaxed),
            tokenRefreshes: self.tokenRefreshes.load(ordering: .relaxed),
            unauthorizedRetries: self.unauthorizedRetries.load(ordering: .relaxed),
            exhausted: self.exhausted.load(ordering: .relaxed),
            outageRefusals: self.outageRefusals.load(ordering: .relaxed)
        )
    }
}
