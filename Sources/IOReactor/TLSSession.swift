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

/// One connection's OpenSSL state: an `SSL` whose I/O is a memory BIO pair, so OpenSSL never
/// touches the socket.
///
/// The network half of the pair is read and written without copies: a receive lands directly in
/// the space ``inboundSpace()`` returns, and a send reads directly from ``outboundBytes()``.
/// Loop thread only.
final class TLSSession {
    let ssl: OpaquePointer
    private let network: OpaquePointer
    private let context: TLSServerContext

    /// Creates the `SSL` in server (accept) state over a new BIO pair.
    /// - Parameter context: The shared server context.
    init(context: TLSServerContext) throws(IOReactorError) {
        guard let ssl = SSL_new(context.context) else { throw TLSServerContext.openSSLError("SSL_new") }
        var internalBIO: OpaquePointer? = nil
        var networkBIO: OpaquePointer? = nil
        let size = context.bioBufferSize
        guard BIO_new_bio_pair(&internalBIO, size, &networkBIO, size) == 1, let internalBIO, let networkBIO else {
            SSL_free(ssl)
            throw TLSServerContext.openSSLError("BIO_new_bio_pair")
        }
        SSL_set_bio(ssl, internalBIO, internalBIO)
        SSL_set_accept_state(ssl)
        self.ssl = ssl
        self.network = networkBIO
        self.context = context
        context.sessionOpened()
    }

    deinit {
        SSL_free(self.ssl)  // frees the internal half
        BIO_free(self.network)
        self.context.sessionClosed()
    }

    /// Copies ciphertext received before the session existed into the inbound BIO.
    /// - Returns: `false` when it does not fit (it always does for the first read).
    func feedInbound(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let space = self.inboundSpace()
        guard space.count >= bytes.count else { return false }
        space.copyMemory(from: bytes)
        self.commitInbound(bytes.count)
        return true
    }

    /// Contiguous free space for received ciphertext; commit what arrived with ``commitInbound(_:)``.
    func inboundSpace() -> UnsafeMutableRawBufferPointer {
        var pointer: UnsafeMutablePointer<CChar>? = nil
        let count = BIO_nwrite0(self.network, &pointer)
        guard count > 0, let pointer else { return UnsafeMutableRawBufferPointer(start: nil, count: 0) }
        return UnsafeMutableRawBufferPointer(start: pointer, count: Int(count))
    }

    /// `true` when ciphertext arrived since `SSL_read` last asked for more, so another `SSL_read`
    /// can make progress. Lets a read skip the `SSL_read` that would only fail with WANT_READ.
    var inboundFresh = true

    /// `true` when `SSL_read` may return bytes without new ciphertext.
    var mayHaveReadableData: Bool { self.inboundFresh || SSL_has_pending(self.ssl) == 1 }

    /// Marks `count` bytes written into ``inboundSpace()`` as received.
    func commitInbound(_ count: Int) {
        self.inboundFresh = true
        var pointer: UnsafeMutablePointer<CChar>? = nil
        let committed = BIO_nwrite(self.network, &pointer, Int32(count))
        precondition(committed == count, "BIO_nwrite committed \(committed) of \(count)")
    }

    /// Ciphertext waiting to be sent (contiguous part); consume what was sent with ``consumeOutbound(_:)``.
    func outboundBytes() -> UnsafeMutableRawBufferPointer {
        var pointer: UnsafeMutablePointer<CChar>? = nil
        let count = BIO_nread0(self.network, &pointer)
        guard count > 0, let pointer else { return UnsafeMutableRawBufferPointer(start: nil, count: 0) }
        return UnsafeMutableRawBufferPointer(start: pointer, count: Int(count))
    }

    /// Drops `count` sent bytes from the outbound buffer.
    func consumeOutbound(_ count: Int) {
        var pointer: UnsafeMutablePointer<CChar>? = nil
        let consumed = BIO_nread(self.network, &pointer, Int32(count))
        precondition(consumed == count, "BIO_nread consumed \(consumed) of \(count)")
    }

    /// `true` when ciphertext waits to be sent.
    var hasOutbound: Bool { CKeystorm_BIO_pending(self.network) > 0 }

    /// Decrypted bytes ready in OpenSSL's buffer.
    var pendingPlaintext: Int { Int(SSL_pending(self.ssl)) }

    /// The client certificate of the session (also for a resumed one).
    var peerCertificate: OpaquePointer? { SSL_get0_peer_certificate(self.ssl) }

    /// The untrusted chain the client sent (leaf excluded on the server side).
    var peerChain: OpaquePointer? { SSL_get_peer_cert_chain(self.ssl) }

    /// `true` when the handshake resumed a session.
    var sessionReused: Bool { SSL_session_reused(self.ssl) == 1 }

    /// The negotiated protocol, e.g. `TLSv1.3`.
    var protocolVersion: String { String(cString: SSL_get_version(self.ssl)) }

    /// The X509 verification result of the handshake, rendered.
    var verifyResultDescription: String {
        let result = SSL_get_verify_result(self.ssl)
        return String(cString: X509_verify_cert_error_string(result))
    }
}
