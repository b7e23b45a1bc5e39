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
import KeystormControl
import Synchronization

/// The TLS side of the client rules in force: ``ClientTrust`` (the control plane's rules,
/// authorizer and connections) adapted to the reactor's ``TrustPolicy`` and TLS context, so that
/// `keystorm clients` changes apply to new connections without a restart.
final class TrustState: Sendable {
    let trust: ClientTrust
    private let context = Mutex<TLSServerContext?>(nil)

    init(store: any KeyStore, connections: ClientConnectionRegistry = ClientConnectionRegistry()) {
        self.trust = ClientTrust(store: store, connections: connections, log: { Log.info($0) })
        // Weak: the trust keeps the closure, this keeps the trust.
        self.trust.onChange { [weak self] anchors in
            try self?.context.withLock { $0 }?.setTrustPolicy(Self.policy(for: anchors))
        }
    }

    /// The open connections, closed when the rule that admitted them goes.
    var connections: ClientConnectionRegistry { self.trust.connections }

    /// The TLS policy for the current rules.
    var policy: TrustPolicy { Self.policy(for: self.trust.anchors) }

    static func policy(for anchors: ClientTrust.Anchors) -> TrustPolicy {
        TrustPolicy(
            caCertificates: anchors.caCertificates.map { .pem($0) },
            pinnedFingerprints: Set(anchors.pinnedFingerprints.compactMap { CertificateFingerprint(hex: $0) })
        )
    }

    /// Applies later reloads to this TLS context too.
    func attach(_ context: TLSServerContext) {
        self.context.withLock { $0 = context }
    }

    /// Reads the rules and, when they changed, puts them in force (see ``ClientTrust/load()``).
    func load() async throws { try await self.trust.load() }

    /// Takes the rule `id` out of force at once and closes the connections it admitted.
    func revoke(ruleID id: String) throws { try self.trust.revoke(ruleID: id) }

    /// Whether the rule that admitted `client` is still in force.
    func admits(_ client: ClientIdentity) -> Bool { self.trust.admits(client) }

    /// The tenant a verified client certificate acts for, or `nil`.
    func identify(_ peer: PeerCertificate) -> ClientIdentity? {
        self.trust.identify(fingerprint: peer.fingerprint.hex, der: peer.der)
    }
}
