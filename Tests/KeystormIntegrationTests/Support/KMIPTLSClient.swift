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
import KMIPCodec
import KMIPModel

/// A blocking OpenSSL mutual-TLS KMIP client for the live-server tests, after the IOReactor
/// tests' BlockingClient.
///
/// Each blocking exchange runs on its own thread (``offload(_:)``), never on the cooperative pool,
/// and every socket has 30 s send and receive timeouts, so nothing waits forever. ``send(_:)``
/// opens one connection per message, as vCenter does; ``connect()`` gives a persistent one.
final class KMIPTLSClient: Sendable {
    struct Identity: Sendable {
        var certificate: String
        var key: String
    }

    enum TLSVersion: Sendable {
        case any, tls12, tls13
    }

    /// Where an exchange failed.
    struct Failure: Error, CustomStringConvertible {
        enum Stage: String, Sendable {
            case connect, handshake, write, read
        }

        var stage: Stage
        var detail: String
        var description: String { "\(self.stage.rawValue): \(self.detail)" }

        /// The server refused the client during the TLS handshake: `SSL_connect` failed, or (TLS
        /// 1.3, where the client's side of the handshake ends before the server has checked the
        /// client certificate) the server's alert or close arrived instead of the first response.
        var isHandshakeRefusal: Bool {
            switch self.stage {
            case .handshake: true
            case .read, .write: self.detail.contains("alert") || self.detail.contains("closed by the server")
            case .connect: false
            }
        }
    }

    /// OpenSSL writes to the socket with write(2): a write (or close_notify) after the server
    /// closed the connection (a refused client, a killed server) would raise SIGPIPE and end the
    /// whole test process. Ignored once, for the process, as servers do.
    private static let ignoreSIGPIPE: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()

    let port: Int
    private let context: ContextBox

    /// An `SSL_CTX`, immutable once configured (OpenSSL allows sharing it across threads then).
    fileprivate final class ContextBox: @unchecked Sendable {
        let context: OpaquePointer
        init(_ context: OpaquePointer) { self.context = context }
        deinit { SSL_CTX_free(self.context) }
    }

    /// - Parameters:
    ///   - identity: The client certificate and key, or `nil` to present none.
    ///   - caFile: The CA that signed the server certificate (the data dir's tls/server-ca.pem).
    init(port: Int, caFile: String, identity: Identity?, tlsVersion: TLSVersion = .any) throws {
        Self.ignoreSIGPIPE
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw Failure(stage: .handshake, detail: "SSL_CTX_new")
        }
        self.context = ContextBox(context)
        self.port = port
        if let identity {
            guard SSL_CTX_use_certificate_chain_file(context, identity.certificate) == 1,
                SSL_CTX_use_PrivateKey_file(context, identity.key, SSL_FILETYPE_PEM) == 1
            else {
                throw Failure(stage: .handshake, detail: "client certificate \(identity.certificate): \(Self.errors())")
            }
        }
        guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
            throw Failure(stage: .handshake, detail: "CA \(caFile): \(Self.errors())")
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        let version: Int32? =
            switch tlsVersion {
            case .any: nil
            case .tls12: TLS1_2_VERSION
            case .tls13: TLS1_3_VERSION
            }
        if let version {
            _ = CKeystorm_SSL_CTX_set_min_proto_version(context, version)
            _ = CKeystorm_SSL_CTX_set_max_proto_version(context, version)
        }
    }

    // MARK: One connection per message

    /// Opens a connection, sends one message, reads one framed response and closes.
    func send(_ bytes: [UInt8]) async throws -> [UInt8] {
        let context = self.context
        let port = self.port
        return try await offload {
            let connection = try BlockingConnection(port: port, context: context.context)
            let response = try connection.exchange(bytes)
            connection.close()
            return response
        }
    }

    func send(_ request: RequestMessage) async throws -> ResponseMessage {
        try ResponseMessage(decoding: try await self.send(request.encoded()))
    }

    /// Sends one operation (KMIP 1.1 unless told) and returns its single response item.
    func call<P: KMIPRequestPayload>(_ payload: P, version: ProtocolVersion = .v1_1) async throws -> ResponseBatchItem {
        let response = try await self.send(RequestMessage(version: version, batchItems: [RequestBatchItem(payload)]))
        guard response.batchItems.count == 1 else {
            throw LiveTestFailure("expected one response item, got \(response.batchItems.count)")
        }
        return response.batchItems[0]
    }

    /// Only the TLS handshake, then a clean close (TLS 1.3: see ``Failure/isHandshakeRefusal``).
    func handshake() async throws {
        let context = self.context
        let port = self.port
        try await offload {
            let connection = try BlockingConnection(port: port, context: context.context)
            connection.close()
        }
    }

    // MARK: A persistent connection

    /// A connection for several messages in turn.
    func connect() async throws -> Connection {
        let context = self.context
        let port = self.port
        let connection = try await offload { try BlockingConnection(port: port, context: context.context) }
        return Connection(connection, context: context)
    }

    final class Connection: Sendable {
        private let connection: BlockingConnection
        private let context: ContextBox  // keeps the SSL_CTX alive as long as the SSL

        fileprivate init(_ connection: BlockingConnection, context: ContextBox) {
            self.connection = connection
            self.context = context
        }

        /// Sends one message and reads one response; callers do not overlap calls.
        func send(_ bytes: [UInt8]) async throws -> [UInt8] {
            let connection = self.connection
            return try await offload { try connection.exchange(bytes) }
        }

        func send(_ request: RequestMessage) async throws -> ResponseMessage {
            try ResponseMessage(decoding: try await self.send(request.encoded()))
        }

        func close() async {
            let connection = self.connection
            _ = try? await offload { connection.close() }
        }
    }

    fileprivate static func errors() -> String {
        var messages: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var text = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &text, text.count)
            messages.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.joined(separator: "; ")
    }
}

/// Runs blocking work on a new thread and resumes the caller with its result, so that blocking
/// socket and OpenSSL calls never occupy a thread of the cooperative pool.
func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.name = "KMIPTLSClient"
        thread.start()
    }
}

/// One blocking TLS connection to 127.0.0.1. Used by one thread at a time.
private final class BlockingConnection: @unchecked Sendable {
    private let fd: Int32
    private var ssl: OpaquePointer?
    private var framer = TTLV.Framer()
    private var closed = false

    /// Connects and runs the TLS handshake.
    init(port: Int, context: OpaquePointer, timeoutSeconds: Int = 30) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw KMIPTLSClient.Failure(stage: .connect, detail: "socket: errno \(errno)") }
        self.fd = fd
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        // deinit closes `fd` when a later step throws.
        guard result == 0 else {
            throw KMIPTLSClient.Failure(stage: .connect, detail: "connect to port \(port): errno \(errno)")
        }
        guard let ssl = SSL_new(context) else { throw KMIPTLSClient.Failure(stage: .handshake, detail: "SSL_new") }
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        ERR_clear_error()
        let connected = SSL_connect(ssl)
        if connected != 1 {
            let error = SSL_get_error(ssl, connected)
            throw KMIPTLSClient.Failure(
                stage: .handshake,
                detail: "SSL_connect: error \(error): \(KMIPTLSClient.errors()) errno \(errno)"
            )
        }
    }

    deinit {
        if let ssl { SSL_free(ssl) }
        Glibc.close(self.fd)
    }

    /// Writes one message and reads one framed response.
    func exchange(_ bytes: [UInt8]) throws -> [UInt8] {
        guard let ssl else { throw KMIPTLSClient.Failure(stage: .write, detail: "not connected") }
        ERR_clear_error()
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Int(SSL_write(ssl, $0.baseAddress, Int32($0.count))) }
            guard count > 0 else {
                let savedErrno = errno
                let error = SSL_get_error(ssl, Int32(count))
                throw KMIPTLSClient.Failure(stage: .write, detail: Self.describe(error, errno: savedErrno))
            }
            offset += count
        }
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            do {
                if let message = try self.framer.nextMessage() { return message }
            } catch {
                throw KMIPTLSClient.Failure(stage: .read, detail: "not a TTLV message: \(error)")
            }
            let got = buffer.withUnsafeMutableBytes { Int(SSL_read(ssl, $0.baseAddress, Int32($0.count))) }
            guard got > 0 else {
                let savedErrno = errno
                let error = SSL_get_error(ssl, Int32(got))
                throw KMIPTLSClient.Failure(stage: .read, detail: Self.describe(error, errno: savedErrno))
            }
            self.framer.append(buffer[0..<got])
        }
    }

    /// Sends close_notify and closes the write side.
    func close() {
        guard !self.closed else { return }
        self.closed = true
        if let ssl { _ = SSL_shutdown(ssl) }
        Glibc.shutdown(self.fd, Int32(SHUT_WR))
    }

    private static func describe(_ error: Int32, errno: Int32) -> String {
        let reasons = KMIPTLSClient.errors()
        switch error {
        case SSL_ERROR_ZERO_RETURN: return "closed by the server (close_notify)"
        // A close after an alert may arrive as a reset that overtakes the alert (the server
        // closed with our request unread), or as an end of stream without close_notify.
        case SSL_ERROR_SYSCALL where errno == 0 || errno == ECONNRESET || errno == EPIPE:
            return "closed by the server (errno \(errno)) \(reasons)"
        case SSL_ERROR_SSL where reasons.contains("unexpected eof"): return "closed by the server (\(reasons))"
        case SSL_ERROR_SYSCALL: return "system error: errno \(errno) \(reasons)"
        default: return "SSL error \(error): \(reasons)"
        }
    }
}
