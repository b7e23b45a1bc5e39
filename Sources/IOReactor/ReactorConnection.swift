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

/// One accepted connection, handed to the handler of ``ReactorServer/run(handler:)`` after its
/// TLS handshake succeeded.
///
/// A connection belongs to one ``ReactorLoop`` and must be used from it: from the handler's task
/// (which prefers that loop) or from an actor pinned to ``serialExecutor``. Its methods are
/// `nonisolated(nonsending)`, so they run in the caller's isolation without a hop. One reader and one
/// writer at a time.
///
/// ```swift
/// try await server.run { connection in
///     while let request = try await connection.receive() {
///         try await connection.write(request)
///     }
/// }
/// ```
public final class ReactorConnection {
    let core: ConnectionCore

    init(core: ConnectionCore) {
        self.core = core
    }

    /// The loop this connection runs on.
    public var loop: ReactorLoop { self.core.loop }

    /// The loop's serial executor, for a per-connection actor:
    /// `nonisolated var unownedExecutor: UnownedSerialExecutor { connection.serialExecutor }`.
    public var serialExecutor: UnownedSerialExecutor { self.core.loop.serialExecutor.asUnownedSerialExecutor() }

    /// The client certificate (DER and SHA-256), `nil` on a plain-text connection.
    public var peerCertificate: PeerCertificate? { self.core.peerCertificate }

    /// The negotiated TLS version (`TLSv1.2`, `TLSv1.3`), `nil` on a plain-text connection.
    public var tlsVersion: String? { self.core.protocolVersion }

    /// The peer's numeric address, `host:port` (IPv6 in brackets).
    public var remoteAddress: String { self.core.remoteAddress }

    /// `true` once the server began a graceful shutdown: finish the current request and return.
    public var isDraining: Bool { self.core.state != .open }

    /// Reads up to `buffer.count` bytes.
    ///
    /// Waits at most the idle timeout for data. During a graceful shutdown a read that would wait
    /// returns 0. Cancelling the calling task ends the read with ``IOReactorError/cancelled``.
    /// - Parameter buffer: Where the bytes go. It must stay valid until the call returns (a plain-text
    ///   connection receives into it directly); ``receive(maxBytes:)`` needs no caller buffer.
    /// - Returns: The number of bytes read; 0 at end of stream.
    /// - Throws: ``IOReactorError`` (`.timeout`, `.connectionReset`, `.tls`, `.shutdown`, `.cancelled`).
    nonisolated(nonsending) public func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        precondition(self.core.loop.inEventLoop, "a ReactorConnection is used off its loop")
        return try await self.core.read(into: buffer)
    }

    /// Reads the bytes available now (at most `maxBytes`), waiting for at least one.
    /// - Parameter maxBytes: The largest chunk returned.
    /// - Returns: The bytes, or `nil` at end of stream.
    /// - Throws: See ``read(into:)``.
    nonisolated(nonsending) public func receive(maxBytes: Int = 16384) async throws -> [UInt8]? {
        precondition(self.core.loop.inEventLoop, "a ReactorConnection is used off its loop")
        return try await self.core.receiveAvailable(maxBytes: maxBytes) { Array($0) }
    }

    /// Appends the bytes available now (at most `maxBytes`) to `buffer`, waiting for at least one.
    ///
    /// Made for a framer that accumulates a message: once `buffer` has the capacity, no read
    /// allocates, and an idle connection holds no buffer of the transport's.
    /// - Parameters:
    ///   - buffer: Where the bytes are appended.
    ///   - maxBytes: The most bytes appended by one call.
    /// - Returns: The number of bytes appended; 0 at end of stream.
    /// - Throws: See ``read(into:)``.
    nonisolated(nonsending) public func read(
        appendingTo buffer: inout [UInt8],
        maxBytes: Int = 16384
    ) async throws -> Int {
        precondition(self.core.loop.inEventLoop, "a ReactorConnection is used off its loop")
        let appended = try await self.core.receiveAvailable(maxBytes: maxBytes) { bytes in
            buffer.append(contentsOf: bytes)
            return bytes.count
        }
        return appended ?? 0
    }

    /// Writes `bytes` (which must stay valid until the call returns): encrypts and queues them, then starts sending. Returns once they are
    /// buffered; waits when the connection's buffer is full (backpressure), at most the idle timeout.
    /// - Throws: ``IOReactorError`` when the connection failed or was closed.
    nonisolated(nonsending) public func write(_ bytes: UnsafeRawBufferPointer) async throws {
        precondition(self.core.loop.inEventLoop, "a ReactorConnection is used off its loop")
        try await self.core.write(bytes)
    }

    /// Writes `bytes`; see ``write(_:)-(UnsafeRawBufferPointer)``.
    nonisolated(nonsending) public func write(_ bytes: [UInt8]) async throws {
        precondition(self.core.loop.inEventLoop, "a ReactorConnection is used off its loop")
        try await self.core.write(bytes)
    }

    /// Waits until every written byte was handed to the kernel.
    nonisolated(nonsending) public func flush() async throws {
        precondition(self.core.loop.inEventLoop, "a ReactorConnection is used off its loop")
        try await self.core.flush()
    }

    /// Sends close_notify (TLS), flushes, and closes the socket. Idempotent; the server also closes
    /// the connection when the handler returns.
    nonisolated(nonsending) public func close() async {
        precondition(self.core.loop.inEventLoop, "a ReactorConnection is used off its loop")
        await self.core.close()
    }
}

@available(*, unavailable)
extension ReactorConnection: Sendable {}

extension ReactorConnection {
    /// A handle that closes this connection from any thread, e.g. when the client's admission was
    /// revoked. Keep it no longer than the connection is served.
    public var closer: ReactorConnectionCloser { ReactorConnectionCloser(core: self.core) }
}

/// Closes one connection from any thread: the close is handed to the connection's loop.
///
/// The connection's pending and later reads and writes fail with ``IOReactorError/Code/closed``, so its
/// handler returns and the server closes the socket. No close_notify is sent: the connection may
/// be in the middle of a message.
public struct ReactorConnectionCloser: Sendable {
    let core: ConnectionCore

    /// Hands the close to the connection's loop and returns at once. Idempotent.
    /// - Parameter reason: Why, as the connection's error reports it (no secrets).
    public func close(reason: String = "closed by the server") {
        let core = self.core
        core.loop.execute { core.closeFromOutside(reason: reason) }
    }
}
