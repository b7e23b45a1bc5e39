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

public import KMIPServer
public import KeyStore
import KeystormPKI
import Synchronization

/// The client rules in force in a running server: the trust anchors the TLS layer needs (CA
/// certificates and pinned fingerprints), the mapping of verified certificates to tenants (the
/// ``ClientAuthorizer``), and the open connections each rule admitted.
///
/// It lives beside the authorizer's rules rather than in KMIPServer because checking that a CA
/// issued a certificate needs X.509 (KeystormPKI), which the KMIP server does not import; the TLS
/// context itself stays with the executable, which installs ``Anchors`` through ``onChange(_:)``.
public final class ClientTrust: Sendable {
    /// What the TLS layer trusts, as plain values.
    public struct Anchors: Hashable, Sendable {
        /// The trusted CA certificates, PEM.
        public var caCertificates: [String]
        /// The pinned client certificates' SHA-256 fingerprints, lower-case hex.
        public var pinnedFingerprints: Set<String>
    }

    private struct Loaded: Sendable {
        var rules: [ClientRule] = []
        var authorities: [String: [PEMCertificate]] = [:]
    }

    private let store: any KeyStore
    private let authorizer: ClientAuthorizer
    private let loaded = Mutex(Loaded())
    private let install = Mutex<(@Sendable (Anchors) throws -> Void)?>(nil)
    private let log: @Sendable (String) -> Void
    /// The open connections, closed when the rule that admitted them goes.
    public let connections: ClientConnectionRegistry

    public init(
        store: any KeyStore,
        connections: ClientConnectionRegistry = ClientConnectionRegistry(),
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.store = store
        self.authorizer = ClientAuthorizer(store: store)
        self.connections = connections
        self.log = log
    }

    /// The anchors of the rules in force.
    public var anchors: Anchors { Self.anchors(for: self.loaded.withLock { $0.rules }) }

    /// The anchors of `rules`.
    public static func anchors(for rules: [ClientRule]) -> Anchors {
        Anchors(
            caCertificates: rules.filter { $0.kind == .trustedCA }.map(\.certificatePEM),
            pinnedFingerprints: Set(rules.filter { $0.kind == .pinnedCertificate }.map { $0.fingerprint.lowercased() })
        )
    }

    /// Installs later changes of the anchors (into a TLS context); a throw keeps the old rules.
    public func onChange(_ install: @escaping @Sendable (Anchors) throws -> Void) {
        self.install.withLock { $0 = install }
    }

    /// Reads the rules; when they changed, installs the new anchors, updates the authorizer, then
    /// closes the open connections of rules that were removed or changed.
    public func load() async throws {
        let rules = try await self.store.clients(tenantID: nil).sorted { $0.id < $1.id }
        guard rules != self.loaded.withLock({ $0.rules }) else { return }
        try self.apply(rules)
        self.log("client rules loaded: \(rules.count)")
    }

    /// Takes the rule `id` out of force at once (it was removed from the store), and closes the
    /// connections it admitted. The next ``load()`` finds the store agreeing.
    public func revoke(ruleID id: String) throws {
        try self.apply(self.loaded.withLock { $0.rules }.filter { $0.id != id })
    }

    private func apply(_ rules: [ClientRule]) throws {
        var authorities: [String: [PEMCertificate]] = [:]
        for rule in rules where rule.kind == .trustedCA {
            authorities[rule.id] = (try? PEMCertificate.parseBundle(rule.certificatePEM)) ?? []
        }
        let fresh = Loaded(rules: rules, authorities: authorities)
        if let install = self.install.withLock({ $0 }) {
            try install(Self.anchors(for: rules))
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
            self.log(
                "closed \(closed) connection(s) admitted by removed client rule(s) \(revoked.sorted().joined(separator: ", "))"
            )
        }
    }

    /// Whether the rule that admitted `client` is still in force.
    public func admits(_ client: ClientIdentity) -> Bool {
        guard let rule = client.ruleID else { return true }
        return self.authorizer.hasRule(id: rule)
    }

    /// The tenant a certificate the TLS layer verified acts for, or `nil`.
    ///
    /// - Parameters:
    ///   - fingerprint: SHA-256 of the certificate's DER, lower-case hex.
    ///   - der: The certificate's DER, to check which trusted CA issued it.
    public func identify(fingerprint: String, der: [UInt8]) -> ClientIdentity? {
        let authorities = self.loaded.withLock { $0.authorities }
        return self.authorizer.identify(leafFingerprint: fingerprint) { rule in
            guard let cas = authorities[rule.id], let leaf = try? PEMCertificate(derBytes: der) else { return false }
            return cas.contains { leaf.isIssued(by: $0) }
        }
    }
}
