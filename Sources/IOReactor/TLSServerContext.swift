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

internal import CKeystorm
internal import Synchronization

/// A parsed, ready-to-use TLS server: one OpenSSL `SSL_CTX` shared by every connection of every loop.
///
/// Certificates and keys are parsed once here. The client-trust policy lives in a `Mutex`-protected
/// snapshot that the certificate-verification callback reads on each full handshake, so
/// ``setTrustPolicy(_:)`` takes effect for the next handshake without a restart. Resumed sessions
/// are re-checked against the current policy too, so a removed pin cannot come back via a ticket.
///
/// The context sends no list of acceptable CA names: clients that pick a certificate by issuer
/// (Java) would otherwise withhold a pinned self-signed certificate.
public final class TLSServerContext: Sendable {
    /// The parsed trust policy: an `X509_STORE` and the pin set. Immutable once built.
    final class TrustSnapshot: @unchecked Sendable {
        let store: OpaquePointer
        let hasAnchors: Bool
        let pins: Set<CertificateFingerprint>
        let policy: TrustPolicy

        init(_ policy: TrustPolicy) throws(IOReactorError) {
            guard let store = X509_STORE_new() else { throw TLSServerContext.openSSLError("X509_STORE_new") }
            var anchors = 0
            do throws(IOReactorError) {
                for source in policy.caCertificates {
                    for certificate in try TLSServerContext.loadCertificates(source) {
                        defer { X509_free(certificate) }
                        if X509_STORE_add_cert(store, certificate) != 1 {
                            throw TLSServerContext.openSSLError("X509_STORE_add_cert")
                        }
                        anchors += 1
                    }
                }
            } catch {
                X509_STORE_free(store)  // self is not fully initialized, so deinit will not run
                throw error
            }
            self.store = store
            self.policy = policy
            self.pins = policy.pinnedFingerprints
            self.hasAnchors = anchors > 0
        }

        deinit { X509_STORE_free(self.store) }
    }

    nonisolated(unsafe) let context: OpaquePointer
    private let trust: Mutex<TrustSnapshot>
    /// Bytes of each memory-BIO buffer per connection.
    let bioBufferSize: Int
    private let liveSessions = Atomic<Int>(0)

    /// Connections that hold OpenSSL state (an `SSL` and its BIO pair) now. A connection gets it
    /// when its first bytes arrive, so connections that send nothing hold none.
    public var openSessions: Int { self.liveSessions.load(ordering: .relaxed) }

    func sessionOpened() { self.liveSessions.add(1, ordering: .relaxed) }
    func sessionClosed() { self.liveSessions.subtract(1, ordering: .relaxed) }

    /// Parses the certificates and keys and builds the OpenSSL context.
    /// - Parameter configuration: The TLS settings.
    /// - Throws: ``IOReactorError/Code/tlsConfiguration`` when a certificate, key or list is rejected.
    public init(configuration: TLSServerConfiguration) throws(IOReactorError) {
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw Self.openSSLError("SSL_CTX_new") }
        self.context = context
        self.trust = Mutex(try TrustSnapshot(configuration.trust))
        self.bioBufferSize = max(1024, configuration.bioBufferSize)
        try self.configure(configuration)
    }

    deinit { SSL_CTX_free(self.context) }

    private func configure(_ configuration: TLSServerConfiguration) throws(IOReactorError) {
        let context = self.context
        guard configuration.minimumVersion <= configuration.maximumVersion,
            CKeystorm_SSL_CTX_set_min_proto_version(context, configuration.minimumVersion.rawValue) == 1,
            CKeystorm_SSL_CTX_set_max_proto_version(context, configuration.maximumVersion.rawValue) == 1
        else { throw Self.openSSLError("protocol versions") }
        _ = CKeystorm_SSL_CTX_set_options(context, CKeystorm_default_ssl_options())
        _ = CKeystorm_SSL_CTX_set_mode(context, CKeystorm_default_ssl_modes())
        if SSL_CTX_set_cipher_list(context, configuration.tls12Ciphers) != 1 {
            throw Self.openSSLError("cipher list \(configuration.tls12Ciphers)")
        }
        if CKeystorm_SSL_CTX_set1_groups_list(context, configuration.groups) != 1 {
            throw Self.openSSLError("groups \(configuration.groups)")
        }
        try self.loadCertificateChain(configuration.certificateChain)
        try self.loadPrivateKey(configuration.privateKey)
        if SSL_CTX_check_private_key(context) != 1 { throw Self.openSSLError("the key does not match the certificate") }

        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        SSL_CTX_set_cert_verify_callback(
            context,
            { storeContext, argument in
                guard let storeContext, let argument else { return 0 }
                let server = Unmanaged<TLSServerContext>.fromOpaque(argument).takeUnretainedValue()
                let result = server.verify(storeContext)
                X509_STORE_CTX_set_error(storeContext, result)
                return result == X509_V_OK ? 1 : 0
            },
            Unmanaged.passUnretained(self).toOpaque()
        )

        let idContext = Array(configuration.sessionIDContext.utf8.prefix(Int(SSL_MAX_SID_CTX_LENGTH)))
        if SSL_CTX_set_session_id_context(context, idContext, UInt32(idContext.count)) != 1 {
            throw Self.openSSLError("SSL_CTX_set_session_id_context")
        }
        let tickets = max(0, configuration.sessionTickets)
        _ = SSL_CTX_set_num_tickets(context, tickets)
        if tickets == 0 {
            _ = CKeystorm_SSL_CTX_set_options(context, CKeystorm_ssl_option_no_ticket())
            _ = CKeystorm_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
        } else {
            // Stateless tickets only: no per-session server memory.
            _ = CKeystorm_SSL_CTX_set_session_cache_mode(
                context,
                Int(SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE)
            )
        }
    }

    /// The policy new handshakes are checked against.
    public var trustPolicy: TrustPolicy { self.trust.withLock { $0.policy } }

    /// Replaces the client-trust policy. Connections that handshake afterwards see the new one;
    /// established connections are not affected.
    /// - Parameter policy: The new CA anchors and pin set.
    /// - Throws: ``IOReactorError/Code/tlsConfiguration`` if a CA certificate cannot be parsed (the
    ///   old policy then stays in force).
    public func setTrustPolicy(_ policy: TrustPolicy) throws(IOReactorError) {
        let snapshot = try TrustSnapshot(policy)
        self.trust.withLock { $0 = snapshot }
    }

    /// Replaces only the pin set, keeping the CA anchors (no re-parsing).
    /// - Parameter pins: The new set of pinned fingerprints.
    public func setPinnedFingerprints(_ pins: Set<CertificateFingerprint>) throws(IOReactorError) {
        var policy = self.trustPolicy
        policy.pinnedFingerprints = pins
        try self.setTrustPolicy(policy)
    }

    /// The verify callback's body: EKU clientAuth, then pin, then CA chain.
    private func verify(_ storeContext: OpaquePointer) -> Int32 {
        guard let leaf = X509_STORE_CTX_get0_cert(storeContext) else { return X509_V_ERR_UNSPECIFIED }
        return self.evaluate(leaf: leaf, untrusted: X509_STORE_CTX_get0_untrusted(storeContext))
    }

    /// Checks a client leaf (and its untrusted chain) against the current policy.
    /// - Returns: `X509_V_OK` or the `X509_V_ERR_*` that explains the refusal (mapped to a TLS alert).
    func evaluate(leaf: OpaquePointer, untrusted: OpaquePointer?) -> Int32 {
        if CKeystorm_has_client_auth_eku(leaf) != 1 { return X509_V_ERR_INVALID_PURPOSE }
        let snapshot = self.trust.withLock { $0 }
        if !snapshot.pins.isEmpty, let fingerprint = Self.fingerprint(of: leaf)?.fingerprint,
            snapshot.pins.contains(fingerprint)
        {
            return X509_V_OK
        }
        guard snapshot.hasAnchors else { return X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY }
        return CKeystorm_verify_chain(snapshot.store, leaf, untrusted)
    }

    /// The DER encoding and SHA-256 fingerprint of `certificate`.
    static func fingerprint(of certificate: OpaquePointer) -> PeerCertificate? {
        let length = i2d_X509(certificate, nil)
        guard length > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_X509(certificate, &cursor)
        }
        guard written == length else { return nil }
        var digest = [UInt8](repeating: 0, count: 32)
        guard CKeystorm_sha256(der, der.count, &digest) == 1 else { return nil }
        return PeerCertificate(der: der, fingerprint: CertificateFingerprint(bytes: digest))
    }

    private func loadCertificateChain(_ source: TLSSource) throws(IOReactorError) {
        if case .file(let path) = source.base {
            if SSL_CTX_use_certificate_chain_file(self.context, path) != 1 {
                throw Self.openSSLError("certificate chain \(path)")
            }
            return
        }
        let certificates = try Self.loadCertificates(source)
        guard let leaf = certificates.first else {
            throw IOReactorError(.tlsConfiguration, reason: "no certificate in the chain")
        }
        defer { X509_free(leaf) }
        if SSL_CTX_use_certificate(self.context, leaf) != 1 { throw Self.openSSLError("SSL_CTX_use_certificate") }
        for intermediate in certificates.dropFirst() {
            // add_extra_chain_cert takes the reference.
            if CKeystorm_SSL_CTX_add_extra_chain_cert(self.context, intermediate) != 1 {
                X509_free(intermediate)
                throw Self.openSSLError("SSL_CTX_add_extra_chain_cert")
            }
        }
    }

    private func loadPrivateKey(_ source: TLSSource) throws(IOReactorError) {
        let key: OpaquePointer?
        switch source.base {
        case .file(let path):
            if SSL_CTX_use_PrivateKey_file(self.context, path, SSL_FILETYPE_PEM) != 1 {
                throw Self.openSSLError("private key \(path)")
            }
            return
        case .pem(let text):
            key = Self.withMemoryBIO(Array(text.utf8)) { PEM_read_bio_PrivateKey($0, nil, nil, nil) }
        case .der(let bytes):
            key = bytes.withUnsafeBufferPointer { buffer in
                var cursor = buffer.baseAddress
                return d2i_AutoPrivateKey(nil, &cursor, buffer.count)
            }
        }
        guard let key else { throw Self.openSSLError("private key") }
        defer { EVP_PKEY_free(key) }
        if SSL_CTX_use_PrivateKey(self.context, key) != 1 { throw Self.openSSLError("SSL_CTX_use_PrivateKey") }
    }

    /// Parses every certificate in `source`. The caller owns (and frees) the returned `X509*`s.
    static func loadCertificates(_ source: TLSSource) throws(IOReactorError) -> [OpaquePointer] {
        switch source.base {
        case .der(let bytes):
            let certificate = bytes.withUnsafeBufferPointer { buffer in
                var cursor = buffer.baseAddress
                return d2i_X509(nil, &cursor, buffer.count)
            }
            guard let certificate else { throw Self.openSSLError("DER certificate") }
            return [certificate]
        case .pem(let text):
            return try Self.readPEMCertificates(Array(text.utf8), what: "PEM certificates")
        case .file(let path):
            guard let bio = BIO_new_file(path, "r") else { throw Self.openSSLError("open \(path)") }
            defer { BIO_free(bio) }
            return try Self.readPEMCertificates(from: bio, what: path)
        }
    }

    private static func readPEMCertificates(_ bytes: [UInt8], what: String) throws(IOReactorError) -> [OpaquePointer] {
        let result: Result<[OpaquePointer], IOReactorError> = Self.withMemoryBIO(bytes) { bio in
            guard let bio else { return .failure(Self.openSSLError("BIO_new_mem_buf")) }
            return Result { () throws(IOReactorError) in try Self.readPEMCertificates(from: bio, what: what) }
        }
        return try result.get()
    }

    private static func readPEMCertificates(
        from bio: OpaquePointer,
        what: String
    ) throws(IOReactorError) -> [OpaquePointer] {
        var certificates: [OpaquePointer] = []
        while let certificate = CKeystorm_PEM_read_X509(bio) { certificates.append(certificate) }
        ERR_clear_error()  // the end of input is reported as an error
        if certificates.isEmpty { throw IOReactorError(.tlsConfiguration, reason: "no certificate in \(what)") }
        return certificates
    }

    private static func withMemoryBIO<T>(_ bytes: [UInt8], _ body: (OpaquePointer?) -> T) -> T {
        bytes.withUnsafeBytes { buffer in
            let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count))
            defer { BIO_free(bio) }
            return body(bio)
        }
    }

    /// Builds a configuration error from OpenSSL's error queue, clearing it.
    static func openSSLError(_ what: String, file: String = #fileID, line: UInt = #line) -> IOReactorError {
        IOReactorError(.tlsConfiguration, reason: "\(what): \(drainOpenSSLErrors())", file: file, line: line)
    }
}

/// Empties the calling thread's OpenSSL error queue and renders it.
func drainOpenSSLErrors() -> String {
    var messages: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        messages.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return messages.isEmpty ? "no OpenSSL error" : messages.joined(separator: "; ")
}
