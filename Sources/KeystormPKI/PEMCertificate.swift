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

/// One X.509 certificate, kept as the exact DER bytes it arrived in.
///
/// Keystorm names a certificate by ``sha256Fingerprint``: the lower-case hex SHA-256 of its DER, the identity
/// used in the client allow-list, the audit log and the admin API. Two values are equal when their DER is.
///
/// ```swift
/// let chain = try PEMCertificate.parseBundle(pemText)
/// let leaf = chain[0]
/// print(leaf.subject, leaf.notAfter, leaf.sha256Fingerprint)
/// guard leaf.hasExtendedKeyUsage(.clientAuth) else { ... }
/// ```
public struct PEMCertificate: Hashable, Sendable {
    let certificate: Certificate

    /// The certificate's DER encoding, exactly as parsed or issued.
    public let derBytes: [UInt8]

    /// Parses a certificate from DER.
    ///
    /// - Parameter derBytes: The DER encoding of one X.509 certificate.
    /// - Throws: ``PKIError/invalidCertificate`` when the bytes are not a certificate.
    public init(derBytes: [UInt8]) throws(PKIError) {
        do {
            self.certificate = try Certificate(derEncoded: derBytes)
        } catch {
            throw PKIError(.invalidCertificate, reason: "not a DER X.509 certificate: \(error)")
        }
        self.derBytes = derBytes
    }

    /// Parses text that holds exactly one `CERTIFICATE` PEM block.
    ///
    /// - Parameter pem: The PEM text. Text around the block (such as `Bag Attributes`) is ignored.
    /// - Throws: ``PKIError/invalidPEM`` unless there is exactly one certificate block,
    ///   ``PKIError/invalidCertificate`` when it does not parse.
    public init(pem: String) throws(PKIError) {
        let certificates = try Self.parseBundle(pem)
        guard certificates.count == 1 else {
            throw PKIError(
                .invalidPEM,
                reason: "expected one certificate, found \(certificates.count); use PEMCertificate.parseBundle"
            )
        }
        self = certificates[0]
    }

    init(_ certificate: Certificate) throws(PKIError) {
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            self.derBytes = serializer.serializedBytes
        } catch {
            throw PKIError(.signingFailed, reason: "cannot DER-encode the certificate: \(error)")
        }
        self.certificate = certificate
    }

    /// Parses every `CERTIFICATE` block of a PEM bundle, in order (leaf first in a chain file).
    ///
    /// Blocks of other kinds, such as a private key in a combined file, are skipped.
    ///
    /// - Parameter pem: The PEM text.
    /// - Returns: The certificates, at least one.
    /// - Throws: ``PKIError/invalidPEM`` when the text holds no certificate block or a block is malformed,
    ///   ``PKIError/invalidCertificate`` when a block is not a certificate.
    public static func parseBundle(_ pem: String) throws(PKIError) -> [PEMCertificate] {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: pem)
        } catch {
            throw PKIError(.invalidPEM, reason: "malformed PEM block")
        }
        var certificates: [PEMCertificate] = []
        for document in documents where document.discriminator == "CERTIFICATE" {
            certificates.append(try PEMCertificate(derBytes: document.derBytes))
        }
        guard !certificates.isEmpty else {
            throw PKIError(.invalidPEM, reason: "no -----BEGIN CERTIFICATE----- block found")
        }
        return certificates
    }

    /// Joins certificates into one PEM bundle, in the order given.
    ///
    /// - Parameter certificates: The certificates, leaf first for a chain.
    /// - Returns: The concatenated PEM blocks.
    public static func bundle(_ certificates: [PEMCertificate]) -> String {
        certificates.map(\.pem).joined()
    }

    /// The certificate as one `-----BEGIN CERTIFICATE-----` PEM block, ending in a newline.
    public var pem: String {
        PEMDocument(type: "CERTIFICATE", derBytes: self.derBytes).pemString + "\n"
    }

    /// The SHA-256 of the DER encoding as 64 lower-case hex digits, without separators: Keystorm's identity
    /// for a certificate. It equals `openssl x509 -noout -fingerprint -sha256` once normalized by
    /// ``normalizedFingerprint(_:)``.
    public var sha256Fingerprint: String {
        Hex.encode(SHA256.hash(data: self.derBytes))
    }

    /// Brings a SHA-256 fingerprint typed by a person or printed by a tool into Keystorm's form.
    ///
    /// Accepts `sha256 Fingerprint=AB:CD:…` (OpenSSL), `AB:CD:…`, `ab cd …` and plain hex, in any case.
    ///
    /// - Parameter text: The fingerprint text.
    /// - Returns: 64 lower-case hex digits, or `nil` when `text` is not a SHA-256 fingerprint.
    public static func normalizedFingerprint(_ text: String) -> String? {
        var value = Substring(text)
        if let equals = value.lastIndex(of: "=") { value = value[value.index(after: equals)...] }
        let hex = value.lowercased().filter { $0 != ":" && $0 != " " && !$0.isNewline && $0 != "\t" }
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            return nil
        }
        return hex
    }

    public static func == (lhs: PEMCertificate, rhs: PEMCertificate) -> Bool { lhs.derBytes == rhs.derBytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.derBytes) }
}

extension PEMCertificate: CustomStringConvertible {
    /// `subject (issuer …, until …, sha256 …)`, for logs and the admin CLI.
    public var description: String {
        "\(self.subject) (issuer \(self.issuer), until \(self.notAfter), sha256 \(self.sha256Fingerprint))"
    }
}
