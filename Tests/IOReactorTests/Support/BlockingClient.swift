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

import CKeystorm
import Foundation

/// A client-side OpenSSL context for the blocking test client (one per test, shared by connections).
final class ClientTLSContext: @unchecked Sendable {
    let context: OpaquePointer

    /// - Parameters:
    ///   - identity: The client certificate and key, or `nil` to send none.
    ///   - caFile: The CA that signed the server certificate.
    ///   - version: Force `TLS1_2_VERSION` or `TLS1_3_VERSION`, or `nil` for either.
    init(identity: TestPKI.Identity?, caFile: String, version: Int32? = nil) throws {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw TestFailure("SSL_CTX_new") }
        self.context = context
        if let identity {
            guard SSL_CTX_use_certificate_chain_file(context, identity.certificate) == 1,
                SSL_CTX_use_PrivateKey_file(context, identity.key, SSL_FILETYPE_PEM) == 1
            else { throw TestFailure("client certificate \(identity.certificate)") }
        }
        guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else { throw TestFailure("CA \(caFile)") }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if let version {
            _ = CKeystorm_SSL_CTX_set_min_proto_version(context, version)
            _ = CKeystorm_SSL_CTX_set_max_proto_version(context, version)
        }
    }

    deinit { SSL_CTX_free(self.context) }
}

/// A blocking TCP or TLS client for tests. Runs on a dedicated thread (see `onThread`), never on the
/// cooperative pool. Every socket has send and receive timeouts, so nothing waits forever.
final class BlockingClient {
    let fd: Int32
    private var ssl: OpaquePointer?

    /// Connects to `127.0.0.1:port`, from `source` (another loopback address such as `127.0.0.2`,
    /// to act as a different client machine) when given.
    init(port: Int, timeoutSeconds: Int = 30, source: String? = nil) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        self.fd = fd
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else { throw TestFailure("bind to \(source): errno \(errno)") }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        // No close here: `self` is fully initialized, so deinit closes `fd` when the init throws.
        guard result == 0 else { throw TestFailure("connect: errno \(errno)") }
    }

    deinit {
        if let ssl { SSL_free(ssl) }
        Glibc.close(self.fd)
    }

    /// Runs the TLS handshake; throws with OpenSSL's reason when it fails.
    func startTLS(_ context: ClientTLSContext, session: OpaquePointer? = nil) throws {
        guard let ssl = SSL_new(context.context) else { throw TestFailure("SSL_new") }
        self.ssl = ssl
        SSL_set_fd(ssl, self.fd)
        if let session { SSL_set_session(ssl, session) }
        ERR_clear_error()
        let result = SSL_connect(ssl)
        if result != 1 { throw TestFailure("SSL_connect: \(Self.errors())") }
    }

    /// `true` when the TLS session was resumed.
    var sessionReused: Bool { self.ssl.map { SSL_session_reused($0) == 1 } ?? false }

    /// The session to resume later (caller frees with `SSL_SESSION_free`).
    func session() -> OpaquePointer? { self.ssl.flatMap { SSL_get1_session($0) } }

    /// Sends all of `bytes`.
    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { buffer -> Int in
                if let ssl = self.ssl {
                    return Int(SSL_write(ssl, buffer.baseAddress, Int32(buffer.count)))
                }
                return Glibc.send(self.fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
            }
            guard count > 0 else { throw TestFailure("write failed: \(Self.errors()) errno \(errno)") }
            offset += count
        }
    }

    /// Reads exactly `count` bytes (fewer only at end of stream).
    func read(count: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while bytes.count < count {
            let want = min(buffer.count, count - bytes.count)
            let got = buffer.withUnsafeMutableBytes { raw -> Int in
                if let ssl = self.ssl { return Int(SSL_read(ssl, raw.baseAddress, Int32(want))) }
                return Glibc.recv(self.fd, raw.baseAddress, want, 0)
            }
            if let ssl = self.ssl, got <= 0 {
                let error = SSL_get_error(ssl, Int32(got))
                if error == SSL_ERROR_ZERO_RETURN { break }
                throw TestFailure("SSL_read: error \(error): \(Self.errors())")
            }
            if got == 0 { break }
            guard got > 0 else { throw TestFailure("read failed: \(Self.errors()) errno \(errno)") }
            bytes.append(contentsOf: buffer[0..<got])
        }
        return bytes
    }

    /// `true` when the server closed the connection (end of stream or a reset), without waiting.
    var closedByPeer: Bool {
        var byte: UInt8 = 0
        let got = Glibc.recv(self.fd, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
        return got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// Reads until the peer closes; returns what arrived.
    func readToEnd(limit: Int = 1 << 20) throws -> [UInt8] { try self.read(count: limit) }

    /// Sends close_notify (TLS) and shuts the write side.
    func shutdown() {
        if let ssl { _ = SSL_shutdown(ssl) }
        Glibc.shutdown(self.fd, Int32(SHUT_WR))
    }

    private static func errors() -> String {
        var messages: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var text = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &text, text.count)
            messages.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.joined(separator: "; ")
    }
}
