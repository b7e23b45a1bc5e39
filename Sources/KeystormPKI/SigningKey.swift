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

/// A private key Keystorm signs with or hands out: the CA keys and the keys of issued certificates.
///
/// Only ECDSA P-256 and RSA (2048 bits or more) are accepted. The type never prints its key: every
/// error raised while reading one names the failure only.
enum SigningKey: Sendable {
    case p256(P256.Signing.PrivateKey)
    case rsa(_RSA.Signing.PrivateKey)

    /// Generates a fresh key pair from the system's random number generator.
    static func generate(_ algorithm: KeyAlgorithm) throws(PKIError) -> SigningKey {
        guard algorithm.isRSA else { return .p256(P256.Signing.PrivateKey()) }
        do {
            return .rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        } catch {
            throw PKIError(.signingFailed, reason: "RSA-2048 key generation failed")
        }
    }

    /// Reads a PEM private key: PKCS#8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`).
    init(pem: String) throws(PKIError) {
        let document: PEMDocument
        do {
            document = try PEMDocument(pemString: pem)
        } catch {
            throw PKIError(.invalidPEM, reason: "the private key is not exactly one PEM block")
        }
        switch document.discriminator {
        case "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY":
            try self.init(derBytes: document.derBytes, discriminator: document.discriminator)
        case "ENCRYPTED PRIVATE KEY":
            throw PKIError(
                .invalidPrivateKey,
                reason: "encrypted private keys are not supported; decrypt it first (openssl pkey -in KEY -out PLAIN)"
            )
        default:
            throw PKIError(.invalidPEM, reason: "expected a PRIVATE KEY PEM block, found \(document.discriminator)")
        }
    }

    private init(derBytes: [UInt8], discriminator: String) throws(PKIError) {
        if discriminator != "RSA PRIVATE KEY", let key = try? P256.Signing.PrivateKey(derRepresentation: derBytes) {
            self = .p256(key)
            return
        }
        if discriminator != "EC PRIVATE KEY", let key = try? _RSA.Signing.PrivateKey(derRepresentation: derBytes) {
            self = .rsa(key)
            return
        }
        // swift-certificates knows more key types (P-384, P-521, Ed25519) than Keystorm signs with.
        if discriminator == "PRIVATE KEY", (try? Certificate.PrivateKey(derBytes: derBytes)) != nil {
            throw PKIError(
                .unsupportedKeyAlgorithm,
                reason: "only ECDSA P-256 and RSA (2048 bits or more) private keys are supported"
            )
        }
        throw PKIError(.invalidPrivateKey, reason: "the \(discriminator) block does not hold a supported private key")
    }

    /// The public key of any private key swift-certificates reads (ECDSA P-256/P-384/P-521, RSA, Ed25519),
    /// for matching a key against a certificate. Keystorm signs only with ``SigningKey``'s two kinds.
    static func publicKey(ofPEM pem: String) throws(PKIError) -> Certificate.PublicKey {
        if let key = try? SigningKey(pem: pem) { return key.publicKey }
        let document: PEMDocument
        do {
            document = try PEMDocument(pemString: pem)
        } catch {
            throw PKIError(.invalidPEM, reason: "the private key is not exactly one PEM block")
        }
        guard document.discriminator.hasSuffix("PRIVATE KEY"), document.discriminator != "ENCRYPTED PRIVATE KEY" else {
            _ = try SigningKey(pem: pem)  // throws the precise error
            throw PKIError(.invalidPrivateKey, reason: "not a private key")
        }
        do {
            return try Certificate.PrivateKey(pemDocument: document).publicKey
        } catch {
            throw PKIError(
                .invalidPrivateKey,
                reason: "the \(document.discriminator) block does not hold a private key"
            )
        }
    }

    /// The key as swift-certificates signs with it.
    var certificateKey: Certificate.PrivateKey {
        switch self {
        case .p256(let key): Certificate.PrivateKey(key)
        case .rsa(let key): Certificate.PrivateKey(key)
        }
    }

    /// The public half, as it appears in a certificate.
    var publicKey: Certificate.PublicKey {
        switch self {
        case .p256(let key): Certificate.PublicKey(key.publicKey)
        case .rsa(let key): Certificate.PublicKey(key.publicKey)
        }
    }

    /// SHA-256 with the key's own scheme: ECDSA or RSASSA-PKCS1-v1_5.
    var signatureAlgorithm: Certificate.SignatureAlgorithm {
        switch self {
        case .p256: .ecdsaWithSHA256
        case .rsa: .sha256WithRSAEncryption
        }
    }

    /// The key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), the form vCenter's upload dialog takes.
    var pkcs8PEM: String {
        let pem: String
        switch self {
        case .p256(let key): pem = key.pemRepresentation
        case .rsa(let key): pem = key.pkcs8PEMRepresentation
        }
        return pem.hasSuffix("\n") ? pem : pem + "\n"
    }
}
