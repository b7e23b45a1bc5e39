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

public import KeyStore
import Synchronization

/// Maps a verified client certificate to its tenant, from the allow-list in the store.
///
/// A pinned certificate is found by its own fingerprint; a certificate issued by a trusted CA
/// (vCenter's root CA) by asking the caller, which can check signatures, whether the rule's CA
/// issued it.
/// The rules are a snapshot that `reload()` replaces atomically, so a change made by an operator
/// applies to the next connection without a restart.
public final class ClientAuthorizer: Sendable {
    public struct Snapshot: Sendable {
        /// Pinned certificate fingerprint → tenant.
        public var pinned: [String: String]
        /// Pinned certificate fingerprint → the id of the rule that pins it.
        public var pinnedRules: [String: String]
        public var rules: [ClientRule]
        /// The ids of ``rules``.
        public var ruleIDs: Set<String>

        public init(rules: [ClientRule]) {
            self.rules = rules
            self.ruleIDs = Set(rules.map(\.id))
            self.pinned = [:]
            self.pinnedRules = [:]
            for rule in rules where rule.kind == .pinnedCertificate {
                self.pinned[rule.fingerprint.lowercased()] = rule.tenantID
                self.pinnedRules[rule.fingerprint.lowercased()] = rule.id
            }
        }
    }

    private let store: any KeyStore
    private let snapshot: Mutex<Snapshot>

    public init(store: any KeyStore) {
        self.store = store
        self.snapshot = Mutex(Snapshot(rules: []))
    }

    /// Reads the rules from the store and makes them current.
    public func reload() async throws {
        let rules = try await self.store.clients(tenantID: nil)
        let fresh = Snapshot(rules: rules)
        self.snapshot.withLock { $0 = fresh }
    }

    /// The current rules.
    public var current: Snapshot { self.snapshot.withLock { $0 } }

    /// The identity of a client whose certificate the TLS layer verified.
    ///
    /// - Parameters:
    ///   - leafFingerprint: SHA-256 (lower-case hex) of the client certificate's DER.
    ///   - issuedBy: Whether the CA of a ``ClientRule/Kind/trustedCA`` rule issued the certificate.
    /// - Returns: The client's identity, or `nil` when no rule admits it.
    public func identify(leafFingerprint: String, issuedBy: (ClientRule) -> Bool) -> ClientIdentity? {
        let leaf = leafFingerprint.lowercased()
        let snapshot = self.current
        if let tenant = snapshot.pinned[leaf] {
            return ClientIdentity(tenantID: tenant, fingerprint: leaf, ruleID: snapshot.pinnedRules[leaf])
        }
        for rule in snapshot.rules where rule.kind == .trustedCA && issuedBy(rule) {
            return ClientIdentity(tenantID: rule.tenantID, fingerprint: leaf, ruleID: rule.id)
        }
        return nil
    }

    /// Whether the rule `id` is in force.
    public func hasRule(id: String) -> Bool {
        self.snapshot.withLock { $0.ruleIDs.contains(id) }
    }

    /// Replaces the rules with `rules` (when the caller already read them).
    public func update(_ rules: [ClientRule]) {
        let fresh = Snapshot(rules: rules)
        self.snapshot.withLock { $0 = fresh }
    }
}
