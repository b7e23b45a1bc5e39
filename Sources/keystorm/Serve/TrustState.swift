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

import IOReactor
import KMIPServer
import KeyStore
import KeystormPKI
import Synchronization

/// The client rules in force: the TLS trust policy (CA anchors and pinned fingerprints) and the
/// mapping of certificates to tenants, reloaded from the store so that `keystorm clients` changes
/// apply to new connections without a restart.
final class TrustState: Sendable {
    private struct Loaded: Sendable {
        var rules: [ClientRule] = []
        var authorities: [String: [PEMCertificate]] = [:]
    }

    private let store: any KeyStore
    private let authorizer: ClientAuthorizer
    private let loaded = Mutex(Loaded())
    private let context = Mutex<TLSServerContext?>(nil)
    /// The open connections, closed when the rule that admitted them goes.
    let connections: ClientConnectionRegistry

    init(store: any KeyStore, connections: ClientConnectionRegistry = ClientConnectionRegistry()) {
        self.store = store
        self.authorizer = ClientAuthorizer(store: store)
        self.connections = connections
    }

    /// The TLS policy for the current rules.
    var policy: TrustPolicy {
        let rules = self.loaded.withLock { $0.rules }
        return Self.policy(for: rules)
    }

    static func policy(for rules: [ClientRule]) -> TrustPolicy {
        TrustPolicy(
            caCertificates: rules.filter { $0.kind == .trustedCA }.map { .pem($0.certificatePEM) },
            pinnedFingerprints: Set(
                rules.filter { $0.kind == .pinnedCertificate }.compactMap {
                    CertificateFingerprint(hex: $0.fingerprint)
                }
            )
        )
    }

    /// Applies later reloads to this TLS context too.
    func attach(_ context: TLSServerContext) {
        self.context.withLock { $0 = context }
    }

    /// Reads the rules; when they changed, updates the authorizer and the TLS policy, then closes
    /// the open connections of rules that were removed or changed.
    func load() async throws {
        let rules = try await self.store.clients(tenantID: nil).sorted { $0.id < $1.id }
        guard rules != self.loaded.withLock({ $0.rules }) else { return }
        try self.apply(rules)
        Log.info("client rules loaded: \(rules.count)")
    }

    /// Takes the rule `id` out of force at once (the admin API removed it from the store), and
    /// closes the connections it admitted. The next ``load()`` finds the store agreeing.
    func revoke(ruleID id: String) throws {
        let rules = self.loaded.withLock { $0.rules }.filter { $0.id != id }
        try self.apply(rules)
    }

    private func apply(_ rules: [ClientRule]) throws {
        var authorities: [String: [PEMCertificate]] = [:]
        for rule in rules where rule.kind == .trustedCA {
            authorities[rule.id] = (try? PEMCertificate.parseBundle(rule.certificatePEM)) ?? []
        }
        let fresh = Loaded(rules: rules, authorities: authorities)
        if let context = self.context.withLock({ $0 }) {
            try context.setTrustPolicy(Self.policy(for: rules))
        }
        let previous = self.loaded.withLock { loaded -> [ClientRule] in
            defer { loaded = fresh }
            return loaded.rules
        }
        self.authorizer.update(rules)
        // After the authorizer: a connection admitted by the old rules either registered before
        // this (and is closed here) or checks ``admits(_:)`` after registering (and is refused).
        let current = Dictionary(rules.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let revoked = Set(previous.filter { current[$0.id] != $0 }.map(\.id))
        let closed = self.connections.closeConnections(ofRules: revoked)
        if closed > 0 {
            Log.info(
                "closed \(closed) connection(s) admitted by removed client rule(s) \(revoked.sorted().joined(separator: ", "))"
            )
        }
    }

    /// Whether the rule that admitted `client` is still in force.
    func admits(_ client: ClientIdentity) -> Bool {
        guard let rule = client.ruleID else { return true }
        return self.authorizer.hasRule(id: rule)
    }

    /// The tenant a verified client certificate acts for, or `nil`.
    func identify(_ peer: PeerCertificate) -> ClientIdentity? {
        let authorities = self.loaded.withLock { $0.authorities }
        return self.authorizer.identify(leafFingerprint: peer.fingerprint.hex) { rule in
            guard let cas = authorities[rule.id], let leaf = try? PEMCertificate(derBytes: peer.der) else {
                return false
            }
            return cas.contains { leaf.isIssued(by: $0) }
        }
    }
}
