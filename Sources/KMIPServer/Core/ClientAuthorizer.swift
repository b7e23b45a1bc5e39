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
/// (vCenter's root CA, or Keystorm's client CA) by the fingerprint of a CA in its verified chain.
/// The rules are a snapshot that `reload()` replaces atomically, so a change made by an operator
/// applies to the next connection without a restart.
public final class ClientAuthorizer: Sendable {
    public struct Snapshot: Sendable {
        public var pinned: [String: String]
        public var authorities: [String: String]
        public var rules: [ClientRule]

        public init(rules: [ClientRule]) {
            self.rules = rules
            self.pinned = [:]
            self.authorities = [:]
            for rule in rules {
                switch rule.kind {
                case .pinnedCertificate: self.pinned[rule.fingerprint.lowercased()] = rule.tenantID
                case .trustedCA: self.authorities[rule.fingerprint.lowercased()] = rule.tenantID
                }
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

    /// The identity of a client whose chain the TLS layer verified.
    ///
    /// - Parameters:
    ///   - leafFingerprint: SHA-256 (lower-case hex) of the client certificate's DER.
    ///   - chainFingerprints: SHA-256 of each CA certificate in the verified chain.
    /// - Returns: The client's identity, or `nil` when no rule admits it.
    public func identify(leafFingerprint: String, chainFingerprints: [String]) -> ClientIdentity? {
        let leaf = leafFingerprint.lowercased()
        return self.snapshot.withLock { snapshot in
            if let tenant = snapshot.pinned[leaf] { return ClientIdentity(tenantID: tenant, fingerprint: leaf) }
            for ca in chainFingerprints {
                if let tenant = snapshot.authorities[ca.lowercased()] { return ClientIdentity(tenantID: tenant, fingerprint: leaf) }
            }
            return nil
        }
    }
}
