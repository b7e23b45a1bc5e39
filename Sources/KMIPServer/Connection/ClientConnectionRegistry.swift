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

/// The open connections of admitted clients, by what admitted them (the client rule and the
/// tenant), so that removing a rule or a tenant, or shredding a tenant's root key, can close the
/// connections it admitted instead of letting them go on until the client leaves.
///
/// The transport registers each connection with a `close` closure that may be called from any
/// thread and must hand the close to the connection's own thread; the registry never touches a
/// connection otherwise. `close` is called outside the registry's lock.
public final class ClientConnectionRegistry: Sendable {
    /// Identifies one registration.
    public struct Token: Hashable, Sendable {
        fileprivate let value: UInt64
    }

    private struct Entry {
        var tenantID: String
        var ruleID: String?
        var close: @Sendable () -> Void
    }

    private struct State {
        var next: UInt64 = 0
        var entries: [UInt64: Entry] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Records an open connection of `client`.
    /// - Parameters:
    ///   - client: Who the connection serves, and the rule that admitted it.
    ///   - close: Closes the connection; callable from any thread, at most once.
    /// - Returns: The token to ``unregister(_:)`` with when the connection ends.
    public func register(_ client: ClientIdentity, close: @escaping @Sendable () -> Void) -> Token {
        self.state.withLock { state in
            state.next += 1
            state.entries[state.next] = Entry(tenantID: client.tenantID, ruleID: client.ruleID, close: close)
            return Token(value: state.next)
        }
    }

    /// Forgets a connection that ended.
    public func unregister(_ token: Token) {
        _ = self.state.withLock { $0.entries.removeValue(forKey: token.value) }
    }

    /// The number of registered connections.
    public var count: Int { self.state.withLock { $0.entries.count } }

    /// Closes (and forgets) every connection admitted by one of `ruleIDs`.
    /// - Returns: How many were closed.
    @discardableResult
    public func closeConnections(ofRules ruleIDs: Set<String>) -> Int {
        guard !ruleIDs.isEmpty else { return 0 }
        return self.close { entry in entry.ruleID.map { ruleIDs.contains($0) } ?? false }
    }

    /// Closes (and forgets) every connection of one of `tenantIDs`.
    /// - Returns: How many were closed.
    @discardableResult
    public func closeConnections(ofTenants tenantIDs: Set<String>) -> Int {
        guard !tenantIDs.isEmpty else { return 0 }
        return self.close { entry in tenantIDs.contains(entry.tenantID) }
    }

    /// Closes (and forgets) every connection of a tenant not in `tenantIDs`.
    /// - Returns: How many were closed.
    @discardableResult
    public func closeConnections(notOfTenants tenantIDs: Set<String>) -> Int {
        self.close { entry in !tenantIDs.contains(entry.tenantID) }
    }

    private func close(where matches: (Entry) -> Bool) -> Int {
        let closing = self.state.withLock { state -> [Entry] in
            let matching = state.entries.filter { matches($0.value) }
            for key in matching.keys { state.entries.removeValue(forKey: key) }
            return Array(matching.values)
        }
        for entry in closing { entry.close() }
        return closing.count
    }
}
