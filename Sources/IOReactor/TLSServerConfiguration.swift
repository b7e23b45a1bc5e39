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

/// Where a certificate, certificate chain or private key comes from.
///
/// Files are read once, when the ``TLSServerContext`` or ``TrustPolicy`` snapshot is built, never
/// per connection.
public struct TLSSource: Hashable, Sendable {
    enum Base: Hashable, Sendable {
        case file(String)
        case pem(String)
        case der([UInt8])
    }

    let base: Base

    /// A PEM file on disk (a chain file may hold several certificates, leaf first).
    public static func file(_ path: String) -> TLSSource { TLSSource(base: .file(path)) }
    /// PEM text (one or more `-----BEGIN ...-----` blocks).
    public static func pem(_ text: String) -> TLSSource { TLSSource(base: .pem(text)) }
    /// One DER-encoded certificate or private key.
    public static func der(_ bytes: [UInt8]) -> TLSSource { TLSSource(base: .der(bytes)) }
}

/// A SHA-256 fingerprint of a certificate's DER encoding.
public struct CertificateFingerprint: Hashable, Sendable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// Wraps 32 digest bytes.
    /// - Precondition: `bytes.count == 32`.
    public init(bytes: [UInt8]) {
        precondition(bytes.count == 32, "a SHA-256 fingerprint has 32 bytes")
        self.bytes = bytes
    }

    /// Parses hex, with or without `:` separators, in either case (`openssl x509 -fingerprint` style).
    public init?(hex: String) {
        var bytes: [UInt8] = []
        var high: UInt8? = nil
        for character in hex.utf8 where character != UInt8(ascii: ":") {
            let nibble: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = character - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let value = high {
                bytes.append(value << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        guard high == nil, bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// Lower-case hex without separators.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in self.bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public var description: String { "sha256:\(self.hex)" }
}

/// Which client certificates may complete a handshake.
///
/// A client is accepted when its leaf certificate carries the clientAuth extended key usage AND
/// either its chain verifies against ``caCertificates`` or its fingerprint is in
/// ``pinnedFingerprints`` (a pinned certificate may be self-signed). Replace the policy at run time
/// with ``TLSServerContext/setTrustPolicy(_:)``; new handshakes see it at once.
public struct TrustPolicy: Sendable, Hashable {
    /// CA certificates that anchor client chains (PEM bundles, files or DER).
    public var caCertificates: [TLSSource]
    /// SHA-256 fingerprints of individually trusted client certificates.
    public var pinnedFingerprints: Set<CertificateFingerprint>

    /// Creates a policy.
    /// - Parameters:
    ///   - caCertificates: Trust anchors for chain verification (may be empty).
    ///   - pinnedFingerprints: Pinned client certificates (may be empty).
    public init(caCertificates: [TLSSource] = [], pinnedFingerprints: Set<CertificateFingerprint> = []) {
        self.caCertificates = caCertificates
        self.pinnedFingerprints = pinnedFingerprints
    }
}

/// The TLS settings of the server; turned into a ``TLSServerContext`` once at start-up.
///
/// Defaults follow DESIGN.md §6: TLS 1.2 with ECDHE + AEAD suites and TLS 1.3, mutual TLS with
/// clientAuth required, one session ticket per full handshake.
public struct TLSServerConfiguration: Sendable {
    /// TLS 1.2 suites: ECDHE key exchange with AEAD ciphers only.
    public static let modernTLS12Ciphers =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
        + "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
        + "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
    /// Opt-in suites for old vCenter releases: TLS_RSA_WITH_AES_128/256_CBC_SHA256 (no forward secrecy).
    public static let legacyVCenterTLS12Ciphers = "AES128-SHA256:AES256-SHA256"

    /// The TLS protocol versions Keystorm can speak.
    public struct ProtocolVersion: Hashable, Sendable, Comparable {
        let rawValue: Int32
        /// TLS 1.2.
        public static let tls12 = ProtocolVersion(rawValue: 0x0303)
        /// TLS 1.3.
        public static let tls13 = ProtocolVersion(rawValue: 0x0304)
        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The server certificate, optionally followed by intermediates (leaf first).
    public var certificateChain: TLSSource
    /// The server's private key (PEM or DER; ECDSA P-256 is fastest on OpenSSL 3.0).
    public var privateKey: TLSSource
    /// Client-certificate trust.
    public var trust: TrustPolicy
    /// The lowest version offered (default TLS 1.2).
    public var minimumVersion: ProtocolVersion = .tls12
    /// The highest version offered (default TLS 1.3).
    public var maximumVersion: ProtocolVersion = .tls13
    /// The OpenSSL cipher list for TLS 1.2. Append ``legacyVCenterTLS12Ciphers`` to opt in to CBC suites.
    public var tls12Ciphers: String = Self.modernTLS12Ciphers
    /// Key-exchange groups, most preferred first.
    public var groups: String = "X25519:P-256:P-384"
    /// Session tickets sent after a full TLS 1.3 handshake (0 disables tickets and resumption; a
    /// full handshake is cheaper without them).
    public var sessionTickets: Int = 1
    /// The session id context that binds resumed sessions to this server.
    public var sessionIDContext: String = "keystorm"
    /// Bytes of each of the two memory-BIO buffers (inbound, outbound) per connection; at least 1024.
    ///
    /// This is the largest chunk one receive or send moves; larger TLS records stream through it.
    /// Both buffers live as long as the connection, so they dominate idle memory: server RSS per
    /// idle TLS connection measured 36.9 KiB at 4096, 32.3 KiB at 2048 and 30.4 KiB at 1024
    /// (Tuning/results/2026-11-29-reactor.md). The default, 1024, meets the 32 KiB goal; it costs an extra send or receive per KiB of a
    /// larger message or handshake flight (microseconds against a ~1 ms full handshake). KMIP
    /// requests and responses are mostly far below 1 KiB.
    public var bioBufferSize: Int = 1024

    /// Creates a configuration.
    /// - Parameters:
    ///   - certificateChain: The server certificate chain.
    ///   - privateKey: The server key.
    ///   - trust: Which client certificates are accepted.
    public init(certificateChain: TLSSource, privateKey: TLSSource, trust: TrustPolicy) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.trust = trust
    }
}

/// The client certificate a connection presented, for authorization above the transport.
public struct PeerCertificate: Sendable, Hashable {
    /// The certificate's DER encoding.
    public let der: [UInt8]
    /// SHA-256 of ``der``.
    public let fingerprint: CertificateFingerprint
}
