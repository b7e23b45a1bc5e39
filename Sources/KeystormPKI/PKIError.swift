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

/// An error raised by KeystormPKI: bad PEM, a certificate or CSR that does not parse, a CSR whose signature
/// does not verify, a key that does not match its certificate, or a file that cannot be read or written.
///
/// Equality compares the ``code`` only, so callers and tests can match on the kind of failure;
/// ``reason`` explains it for logs. A reason never contains private key material: errors raised while
/// reading a private key name the failure, never the key bytes or the underlying parser's message.
///
/// ```swift
/// do {
///     let issued = try clientCA.signCSR(pem: csrText, validity: .days(730))
/// } catch PKIError.csrSignatureInvalid {
///     // tell the operator the CSR was tampered with or truncated
/// }
/// ```
public struct PKIError: Error, Hashable, Sendable {
    /// The kind of a ``PKIError``.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: Hashable, Sendable {
            case invalidPEM
            case invalidCertificate
            case invalidPrivateKey
            case unsupportedKeyAlgorithm
            case keyMismatch
            case notACertificateAuthority
            case invalidCSR
            case csrSignatureInvalid
            case invalidName
            case invalidSubjectAlternativeName
            case invalidValidity
            case signingFailed
            case fileSystem
        }

        fileprivate var base: Base

        /// The text holds no PEM block of the expected kind, or a block is not valid base64.
        public static let invalidPEM = Code(base: .invalidPEM)
        /// The DER bytes are not an X.509 certificate.
        public static let invalidCertificate = Code(base: .invalidCertificate)
        /// The private key does not parse (PKCS#8, SEC1 and PKCS#1 are accepted), or it is encrypted.
        public static let invalidPrivateKey = Code(base: .invalidPrivateKey)
        /// A key of a type Keystorm does not sign with or accept (for example RSA below 2048 bits).
        public static let unsupportedKeyAlgorithm = Code(base: .unsupportedKeyAlgorithm)
        /// The private key is not the one whose public key the certificate holds.
        public static let keyMismatch = Code(base: .keyMismatch)
        /// The certificate loaded as a CA lacks `basicConstraints CA:TRUE` or `keyUsage keyCertSign`.
        public static let notACertificateAuthority = Code(base: .notACertificateAuthority)
        /// The PKCS#10 certificate signing request does not parse, or asks for something Keystorm never signs.
        public static let invalidCSR = Code(base: .invalidCSR)
        /// The CSR parses but its self-signature does not verify with the public key it carries.
        public static let csrSignatureInvalid = Code(base: .csrSignatureInvalid)
        /// A common name or organization is empty or too long.
        public static let invalidName = Code(base: .invalidName)
        /// A DNS name or IP address for the subject alternative name extension is not valid.
        public static let invalidSubjectAlternativeName = Code(base: .invalidSubjectAlternativeName)
        /// The validity period is empty or negative.
        public static let invalidValidity = Code(base: .invalidValidity)
        /// Building or signing the certificate failed.
        public static let signingFailed = Code(base: .signingFailed)
        /// Reading or writing a PEM file failed.
        public static let fileSystem = Code(base: .fileSystem)

        public var description: String {
            switch self.base {
            case .invalidPEM: "invalidPEM"
            case .invalidCertificate: "invalidCertificate"
            case .invalidPrivateKey: "invalidPrivateKey"
            case .unsupportedKeyAlgorithm: "unsupportedKeyAlgorithm"
            case .keyMismatch: "keyMismatch"
            case .notACertificateAuthority: "notACertificateAuthority"
            case .invalidCSR: "invalidCSR"
            case .csrSignatureInvalid: "csrSignatureInvalid"
            case .invalidName: "invalidName"
            case .invalidSubjectAlternativeName: "invalidSubjectAlternativeName"
            case .invalidValidity: "invalidValidity"
            case .signingFailed: "signingFailed"
            case .fileSystem: "fileSystem"
            }
        }
    }

    private struct Backing: Hashable, Sendable {
        var code: Code
        var reason: String
        var file: String
        var line: UInt
    }

    private var backing: Backing

    /// The kind of failure.
    public var code: Code { self.backing.code }
    /// A human-readable explanation. Never contains private key material.
    public var reason: String { self.backing.reason }
    /// Where in Keystorm the error was raised.
    public var file: String { self.backing.file }
    /// Where in Keystorm the error was raised.
    public var line: UInt { self.backing.line }

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - reason: An explanation for logs. It must never contain private key material.
    public init(_ code: Code, reason: String, file: String = #fileID, line: UInt = #line) {
        self.backing = Backing(code: code, reason: reason, file: file, line: line)
    }

    public static func == (lhs: PKIError, rhs: PKIError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

extension PKIError.Code {
    /// Lets callers write `catch PKIError.csrSignatureInvalid`.
    public static func ~= (code: PKIError.Code, error: any Error) -> Bool {
        (error as? PKIError)?.code == code
    }
}

extension PKIError: CustomStringConvertible {
    public var description: String { "PKIError.\(self.code): \(self.reason)" }
}

extension PKIError {
    public static var invalidPEM: Code { .invalidPEM }
    public static var invalidCertificate: Code { .invalidCertificate }
    public static var invalidPrivateKey: Code { .invalidPrivateKey }
    public static var unsupportedKeyAlgorithm: Code { .unsupportedKeyAlgorithm }
    public static var keyMismatch: Code { .keyMismatch }
    public static var notACertificateAuthority: Code { .notACertificateAuthority }
    public static var invalidCSR: Code { .invalidCSR }
    public static var csrSignatureInvalid: Code { .csrSignatureInvalid }
    public static var invalidName: Code { .invalidName }
    public static var invalidSubjectAlternativeName: Code { .invalidSubjectAlternativeName }
    public static var invalidValidity: Code { .invalidValidity }
    public static var signingFailed: Code { .signingFailed }
    public static var fileSystem: Code { .fileSystem }
}
