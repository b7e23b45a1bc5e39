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

internal import SwiftASN1
internal import X509

extension CertificateAuthority {
    /// Signs a PKCS#10 certificate signing request: vCenter's "New Certificate Signing Request (CSR)" mode.
    ///
    /// The CSR's self-signature must verify with the public key it carries, so a CSR altered in transit is
    /// refused. The certificate gets the CSR's subject and public key, the DNS names and IP addresses of a
    /// requested subject alternative name, and Keystorm's own profile: `extendedKeyUsage clientAuth, serverAuth`,
    /// `keyUsage digitalSignature` (plus `keyEncipherment` for RSA), `basicConstraints CA:FALSE` and the key
    /// identifiers. Every other requested extension (a CA flag, other key usages) is ignored. vCenter
    /// generates RSA-2048 CSRs; RSA of 2048 bits or more and ECDSA P-256/P-384/P-521 are accepted.
    /// Call it on Keystorm's client CA.
    ///
    /// - Parameters:
    ///   - pem: One `CERTIFICATE REQUEST` (or `NEW CERTIFICATE REQUEST`) PEM block.
    ///   - validity: How long the certificate is valid; clamped to the CA's own end of validity.
    /// - Returns: The certificate to upload to vCenter ("Upload Signed CSR Certificate").
    /// - Throws: ``PKIError/invalidPEM``, ``PKIError/invalidCSR`` when the request does not parse or has an
    ///   empty subject, ``PKIError/csrSignatureInvalid`` when its signature does not verify,
    ///   ``PKIError/unsupportedKeyAlgorithm``, ``PKIError/invalidValidity``, ``PKIError/signingFailed``.
    public func signCSR(pem: String, validity: CertificateValidity = .leafDefault) throws(PKIError) -> PEMCertificate {
        let request = try Self.parseCSR(pem)
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw PKIError(
                .csrSignatureInvalid,
                reason:
                    "the CSR for \(request.subject) is not signed by the key it carries; it was altered or truncated"
            )
        }
        guard !request.subject.isEmpty else {
            throw PKIError(.invalidCSR, reason: "the CSR has an empty subject")
        }
        let algorithm = PEMCertificate.describe(request.publicKey)
        guard algorithm.hasPrefix("RSA") || algorithm.hasPrefix("ECDSA") else {
            throw PKIError(.unsupportedKeyAlgorithm, reason: "the CSR's \(algorithm) key is not RSA or ECDSA")
        }
        if let bits = PEMCertificate.rsaKeySize(request.publicKey), bits < 2048 {
            throw PKIError(.unsupportedKeyAlgorithm, reason: "the CSR's RSA key has \(bits) bits; at least 2048 needed")
        }
        var alternativeNames: [GeneralName] = []
        if let requested = try? request.attributes.extensionRequest?.extensions.subjectAlternativeNames {
            for name in requested {
                switch name {
                case .dnsName, .ipAddress: alternativeNames.append(name)
                default: continue
                }
            }
        }
        return try self.issue(
            subject: request.subject,
            publicKey: request.publicKey,
            alternativeNames: alternativeNames,
            validity: validity
        )
    }

    private static func parseCSR(_ pem: String) throws(PKIError) -> CertificateSigningRequest {
        let document: PEMDocument
        do {
            document = try PEMDocument(pemString: pem)
        } catch {
            throw PKIError(.invalidPEM, reason: "the CSR is not exactly one PEM block")
        }
        guard document.discriminator == "CERTIFICATE REQUEST" || document.discriminator == "NEW CERTIFICATE REQUEST"
        else {
            throw PKIError(
                .invalidPEM,
                reason: "expected a CERTIFICATE REQUEST PEM block, found \(document.discriminator)"
            )
        }
        do {
            return try CertificateSigningRequest(derEncoded: document.derBytes)
        } catch {
            throw PKIError(.invalidCSR, reason: "not a PKCS#10 certificate signing request: \(error)")
        }
    }
}
