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

/// The IAM bearer token, cached and refreshed by one fetch at a time.
///
/// A token is used until 80% of its lifetime has passed; the first caller after that starts a
/// refresh and every caller meanwhile waits for that same fetch (single flight). If the refresh
/// fails while the old token has not expired yet, callers keep using the old one. A 401 from the
/// API drops the token it was sent with (``invalidate(_:)``), so the next caller fetches anew.
///
/// The fetch runs in an unstructured task: it belongs to every waiter, and one waiter's
/// cancellation must not fail it for the others (the HTTP timeouts bound it).
final class KeyProtectTokenCache: Sendable {
    struct Token: Sendable {
        /// The bearer token: a credential, never logged.
        var value: String
        /// When callers should start fetching a new one.
        var refreshAt: ContinuousClock.Instant
        /// When it stops working.
        var expiresAt: ContinuousClock.Instant

        /// A token obtained at `obtainedAt` (measured before the request, so on the safe side)
        /// that lives `lifetime`.
        init(value: String, obtainedAt: ContinuousClock.Instant, lifetime: Duration) {
            self.value = value
            self.refreshAt = obtainedAt + lifetime * 0.8
            self.expiresAt = obtainedAt + lifetime
        }
    }

    private struct State: Sendable {
        var token: Token?
        var refresh: Task<Token, any Error>?
    }

    private let state = Mutex(State())

    /// A usable token: the cached one, or one fetched with `fetch` (shared with concurrent callers).
    func token(fetch: @escaping @Sendable () async throws -> Token) async throws -> String {
        let now = ContinuousClock.now
        let (cached, refresh): (Token?, Task<Token, any Error>?) = self.state.withLock { state in
            if let token = state.token, now < token.refreshAt { return (token, nil) }
            if let refresh = state.refresh { return (state.token, refresh) }
            let refresh = Task<Token, any Error> {
                do {
                    let token = try await fetch()
                    self.state.withLock {
                        $0.token = token
                        $0.refresh = nil
                    }
                    return token
                } catch {
                    self.state.withLock { $0.refresh = nil }
                    throw error
                }
            }
            state.refresh = refresh
            return (state.token, refresh)
        }
        guard let refresh else { return cached!.value }
        do {
            return try await refresh.value.value
        } catch {
            if let cached, ContinuousClock.now < cached.expiresAt { return cached.value }
            throw error
        }
    }

    /// Forgets `value` if it is still the cached token (the API refused it).
    func invalidate(_ value: String) {
        self.state.withLock { state in
            if state.token?.value == value { state.token = nil }
        }
    }
}
