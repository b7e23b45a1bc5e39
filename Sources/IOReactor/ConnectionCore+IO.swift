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
internal import Glibc

extension ConnectionCore {
    // MARK: Handshake

    /// Runs the TLS handshake within the handshake timeout, then checks a resumed session against
    /// the current trust policy and records the peer certificate.
    ///
    /// On failure the pending alert (for example `unknown_ca`) is flushed before the error is thrown,
    /// so the client learns why.
    nonisolated(nonsending) func handshake() async throws(IOReactorError) {
        guard let context = self.tlsContext else {
            self.handshakeDone = true
            return
        }
        self.setDeadline(.handshake, after: self.limits.handshakeTimeout)
        defer { self.handshakeDeadline = nil }
        let tls = try await self.sessionOnFirstBytes(context)
        while true {
            if let failure = self.failure { throw failure }
            ERR_clear_error()
            let result = SSL_do_handshake(tls.ssl)
            self.kickSend()
            if result == 1 { break }
            switch SSL_get_error(tls.ssl, result) {
            case SSL_ERROR_WANT_READ:
                guard try await self.fillInbound(tls, timeout: nil) else {
                    throw IOReactorError(.handshakeFailed, reason: "the peer closed during the handshake")
                }
            case SSL_ERROR_WANT_WRITE:
                await self.waitForProgress()
            default:
                let reason = "\(drainOpenSSLErrors()) (verify: \(tls.verifyResultDescription))"
                try? await self.flush()
                throw IOReactorError(.handshakeFailed, reason: reason)
            }
        }
        guard let leaf = tls.peerCertificate else {
            throw IOReactorError(.handshakeFailed, reason: "no client certificate")
        }
        if tls.sessionReused {
            let verdict = context.evaluate(leaf: leaf, untrusted: tls.peerChain)
            if verdict != X509_V_OK {
                let reason = String(cString: X509_verify_cert_error_string(Int(verdict)))
                throw IOReactorError(.handshakeFailed, reason: "resumed session no longer trusted: \(reason)")
            }
        }
        self.peerCertificate = TLSServerContext.fingerprint(of: leaf)
        self.protocolVersion = tls.protocolVersion
        self.handshakeDone = true
        // From here on, reads and writes rely on the loop thread's error queue being empty between
        // operations (every failure path drains it), which saves an ERR_clear_error per call.
        ERR_clear_error()
    }

    /// The bytes of the first read of a connection, before it has a TLS session.
    static let firstReadSize = 512

    /// Waits for the client's first bytes in a small buffer, then creates the TLS session and
    /// hands it those bytes: a connection that sends nothing holds no OpenSSL state or BIO buffers.
    nonisolated(nonsending) private func sessionOnFirstBytes(
        _ context: TLSServerContext
    ) async throws(IOReactorError) -> TLSSession {
        if let failure = self.failure { throw failure }
        let first = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.firstReadSize, alignment: 1)
        // The receive returns only after its completion, so the kernel is done with `first` here.
        defer { first.deallocate() }
        let result = await self.receive(into: first, timeout: nil)
        if result < 0, let error = self.receiveError(result) { throw error }
        if let failure = self.failure { throw failure }
        guard result > 0 else {
            throw IOReactorError(.handshakeFailed, reason: "the peer closed during the handshake")
        }
        let firstBytes = self.onFirstBytes
        self.onFirstBytes = nil
        firstBytes?()
        let tls = try TLSSession(context: context)
        guard tls.feedInbound(UnsafeRawBufferPointer(rebasing: first[0..<Int(result)])) else {
            preconditionFailure("the first read is larger than the inbound BIO")
        }
        self.tls = tls
        return tls
    }

    /// Receives ciphertext straight into the inbound BIO.
    /// - Returns: `false` at end of stream (or when a drain ended the wait).
    nonisolated(nonsending) private func fillInbound(
        _ tls: TLSSession,
        timeout: Int64?
    ) async throws(IOReactorError) -> Bool {
        let space = tls.inboundSpace()
        precondition(space.count > 0, "OpenSSL wants to read but the inbound BIO is full")
        let result = await self.receive(into: space, timeout: timeout)
        if result > 0 {
            tls.commitInbound(Int(result))
            return true
        }
        if result == 0 { return false }
        if let error = self.receiveError(result) { throw error }
        return false
    }

    // MARK: Reading

    /// Reads decrypted (or plain) bytes into `buffer`.
    /// - Returns: The count, 0 at end of stream (close_notify, FIN, or a graceful drain).
    nonisolated(nonsending) func read(into buffer: UnsafeMutableRawBufferPointer) async throws(IOReactorError) -> Int {
        guard buffer.count > 0 else { return 0 }
        if let failure = self.failure { throw failure }
        guard self.state == .open || self.state == .draining else {
            throw IOReactorError(.closed, reason: "the connection is closed")
        }
        guard let tls = self.tls else {
            if self.state == .draining { return 0 }
            let result = await self.receive(into: buffer, timeout: self.limits.idleTimeout)
            if result >= 0 { return Int(result) }
            if let error = self.receiveError(result) { throw error }
            return 0
        }
        while true {
            if let count = try self.tlsReadNow(tls, into: buffer) { return count }
            if self.state == .draining { return 0 }
            guard try await self.fillInbound(tls, timeout: self.limits.idleTimeout) else { return 0 }
        }
    }

    /// Reads what is available now, at least one byte, and hands it to `consume` synchronously.
    ///
    /// TLS decrypts into the loop's shared scratch buffer between suspensions, so an idle TLS
    /// connection holds no plaintext buffer of its own; plain connections use their own.
    /// - Returns: What `consume` returned, or `nil` at end of stream.
    nonisolated(nonsending) func receiveAvailable<R>(
        maxBytes: Int,
        _ consume: (UnsafeRawBufferPointer) -> R
    ) async throws(IOReactorError) -> R? {
        let size = max(1, min(maxBytes, self.limits.receiveBufferSize))
        guard let tls = self.tls else {
            if self.scratch.count < size {
                if self.scratch.baseAddress != nil { self.scratch.deallocate() }
                self.scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
            }
            let count = try await self.read(into: UnsafeMutableRawBufferPointer(rebasing: self.scratch[0..<size]))
            return count == 0 ? nil : consume(UnsafeRawBufferPointer(rebasing: self.scratch[0..<count]))
        }
        if let failure = self.failure { throw failure }
        guard self.state == .open || self.state == .draining else {
            throw IOReactorError(.closed, reason: "the connection is closed")
        }
        let shared = UnsafeMutableRawBufferPointer(rebasing: self.loop.scratch[0..<min(size, self.loop.scratch.count)])
        while true {
            if let count = try self.tlsReadNow(tls, into: shared) {
                return count == 0 ? nil : consume(UnsafeRawBufferPointer(rebasing: shared[0..<count]))
            }
            if self.state == .draining { return nil }
            guard try await self.fillInbound(tls, timeout: self.limits.idleTimeout) else { return nil }
        }
    }

    /// One `SSL_read` without waiting.
    /// - Returns: The byte count (0 at close_notify), or `nil` when more ciphertext is needed.
    private func tlsReadNow(
        _ tls: TLSSession,
        into buffer: UnsafeMutableRawBufferPointer
    ) throws(IOReactorError) -> Int? {
        guard tls.mayHaveReadableData else { return nil }
        let count = SSL_read(tls.ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        let error = count > 0 ? SSL_ERROR_NONE : SSL_get_error(tls.ssl, count)
        self.kickSend()  // SSL_read may answer a KeyUpdate or send an alert
        switch error {
        case SSL_ERROR_NONE: return Int(count)
        case SSL_ERROR_ZERO_RETURN: return 0
        case SSL_ERROR_WANT_READ:
            tls.inboundFresh = false
            return nil
        // WANT_WRITE: the outbound BIO is full and the send in flight drains it; wait like WANT_READ.
        case SSL_ERROR_WANT_WRITE: return nil
        default:
            let failure = IOReactorError(.tls, reason: "SSL_read: \(drainOpenSSLErrors())")
            self.failure = failure
            throw failure
        }
    }

    // MARK: Writing

    /// Encrypts (TLS) or queues (plain) `bytes` and starts sending them.
    ///
    /// Returns once the bytes are buffered. When the per-connection buffer is full (the outbound
    /// BIO for TLS, ``ConnectionLimits/maxBufferedBytes`` for plain) it waits for the peer to read.
    nonisolated(nonsending) func write(_ source: some ByteSource) async throws(IOReactorError) {
        if let failure = self.failure { throw failure }
        guard self.state == .open || self.state == .draining else {
            throw IOReactorError(.closed, reason: "the connection is closed")
        }
        guard let tls = self.tls else {
            source.withBytes { self.queuePlain($0) }
            self.kickSend()
            while self.bufferedOutbound > self.limits.maxBufferedBytes {
                if let failure = self.failure { throw failure }
                await self.waitForProgress()
            }
            return
        }
        var offset = 0
        let total = source.withBytes { $0.count }
        while offset < total {
            if let failure = self.failure { throw failure }
            let count = source.withBytes { bytes in
                SSL_write(tls.ssl, bytes.baseAddress! + offset, Int32(clamping: bytes.count - offset))
            }
            if count > 0 {
                offset += Int(count)
                continue
            }
            switch SSL_get_error(tls.ssl, count) {
            case SSL_ERROR_WANT_WRITE:
                self.kickSend()
                await self.waitForProgress()
            default:
                self.failure = IOReactorError(.tls, reason: "SSL_write: \(drainOpenSSLErrors())")
                throw self.failure!
            }
        }
        self.kickSend()
    }
}

/// Bytes a write can read synchronously, again after each suspension.
protocol ByteSource {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R
}

extension Array: ByteSource where Element == UInt8 {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { self.withUnsafeBytes(body) }
}

extension UnsafeRawBufferPointer: ByteSource {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { body(self) }
}
