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

internal import Crypto
internal import SwiftASN1
internal import X509
internal import _CryptoExtras

#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif

extension PEMCertificate {
    /// The subject in RFC 4514 order, most specific first: `CN=vcenter.example.com,O=Example`.
    public var subject: String { String(describing: self.certificate.subject) }

    /// The issuer in RFC 4514 order, most specific first.
    public var issuer: String { String(describing: self.certificate.issuer) }

    /// The subject's (last) common name, the client identity PyKMIP logs; `nil` when there is none.
    public var commonName: String? {
        var name: String?
        for rdn in self.certificate.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                name = String(attribute.value) ?? name
            }
        }
        return name
    }

    /// The serial number as lower-case hex, without separators.
    public var serialNumber: String { Hex.encode(self.certificate.serialNumber.bytes) }

    /// The start of validity, `2026-11-29T17:38:51Z`.
    public var notBefore: String { UTCTime.iso8601(unixSeconds: self.notBeforeUnixSeconds) }

    /// The end of validity, `2028-11-29T17:38:51Z`.
    public var notAfter: String { UTCTime.iso8601(unixSeconds: self.notAfterUnixSeconds) }

    /// The start of validity in seconds since 1970-01-01T00:00:00Z.
    public var notBeforeUnixSeconds: Int64 {
        Int64(self.certificate.notValidBefore.timeIntervalSince1970.rounded(.down))
    }

    /// The end of validity in seconds since 1970-01-01T00:00:00Z.
    public var notAfterUnixSeconds: Int64 {
        Int64(self.certificate.notValidAfter.timeIntervalSince1970.rounded(.down))
    }

    /// Whether the certificate is within its validity period at `unixSeconds` (both ends inclusive).
    ///
    /// - Parameter unixSeconds: The moment, in seconds since 1970-01-01T00:00:00Z.
    /// - Returns: `true` when `notBefore <= unixSeconds <= notAfter`.
    public func isValid(atUnixSeconds unixSeconds: Int64) -> Bool {
        self.notBeforeUnixSeconds <= unixSeconds && unixSeconds <= self.notAfterUnixSeconds
    }

    /// Whether `basicConstraints` says `CA:TRUE`.
    public var isCA: Bool {
        guard case .isCertificateAuthority = try? self.certificate.extensions.basicConstraints else { return false }
        return true
    }

    /// Whether the certificate names itself as issuer and its signature verifies with its own key: a root
    /// CA, or a self-signed client certificate such as the one vCenter generates (trust mode 2).
    public var isSelfSigned: Bool { self.isIssued(by: self) }

    /// Whether `issuer` issued this certificate: the names match and the signature verifies with the
    /// issuer's public key. Validity dates, key usages and path length are not checked.
    ///
    /// - Parameter issuer: The candidate issuer.
    /// - Returns: `true` when the signature verifies.
    public func isIssued(by issuer: PEMCertificate) -> Bool {
        self.certificate.issuer == issuer.certificate.subject
            && issuer.certificate.publicKey.isValidSignature(self.certificate.signature, for: self.certificate)
    }

    /// The DNS names of the subject alternative name extension.
    public var dnsNames: [String] {
        self.subjectAlternativeNames.compactMap {
            guard case .dnsName(let name) = $0 else { return nil }
            return name
        }
    }

    /// The IP addresses of the subject alternative name extension, as text (`127.0.0.1`, `::1`).
    public var ipAddresses: [String] {
        self.subjectAlternativeNames.compactMap {
            guard case .ipAddress(let octets) = $0 else { return nil }
            return IPAddressText.text(octets.bytes)
        }
    }

    /// The subject public key's algorithm: `ECDSA P-256`, `ECDSA P-384`, `ECDSA P-521`, `RSA-2048`, `Ed25519`.
    public var publicKeyAlgorithm: String { Self.describe(self.certificate.publicKey) }

    /// Whether `privateKeyPEM` is the private key of this certificate.
    ///
    /// - Parameter privateKeyPEM: A PKCS#8, SEC1 or PKCS#1 PEM private key (ECDSA P-256/P-384/P-521, RSA or
    ///   Ed25519), not encrypted.
    /// - Returns: `true` when its public half is the certificate's public key.
    /// - Throws: ``PKIError`` when the key does not parse. The error never contains the key.
    public func matches(privateKeyPEM: String) throws(PKIError) -> Bool {
        try SigningKey.publicKey(ofPEM: privateKeyPEM) == self.certificate.publicKey
    }

    private var subjectAlternativeNames: [GeneralName] {
        guard let names = try? self.certificate.extensions.subjectAlternativeNames else { return [] }
        return Array(names)
    }

    static func describe(_ key: Certificate.PublicKey) -> String {
        if P256.Signing.PublicKey(key) != nil { return "ECDSA P-256" }
        if P384.Signing.PublicKey(key) != nil { return "ECDSA P-384" }
        if P521.Signing.PublicKey(key) != nil { return "ECDSA P-521" }
        if let bits = Self.rsaKeySize(key) { return "RSA-\(bits)" }
        if Curve25519.Signing.PublicKey(key) != nil { return "Ed25519" }
        return "unknown"
    }

    static func rsaKeySize(_ key: Certificate.PublicKey) -> Int? {
        _RSA.Signing.PublicKey(key)?.keySizeInBits
    }
}
