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

import KMIPCodec
import KMIPModel
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// A KMIP server address, `host:port` (`[v6]:port` for IPv6).
struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[address]:port`; `nil` when the text is neither.
    init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains("[") else { return nil }
        self.init(host: host, port: port)
    }

    var description: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }

    /// Whether the host is an IPv4 or IPv6 literal (then it is checked against the certificate's
    /// IP addresses and sent without SNI).
    var hostIsAddress: Bool {
        (try? SocketAddress(ipAddress: self.host, port: self.port)) != nil
    }
}

/// Opens KMIP-over-TLS connections to one or more targets: round-robin over the targets, and on a
/// failed connect or handshake the next target (failover). Mutual TLS with one client
/// certificate; one `NIOSSLContext` for every connection.
///
/// SwiftNIO's event loops do the I/O; callers await, so nothing blocks the cooperative pool.
final class KMIPClient: Sendable {
    let targets: [Endpoint]
    let version: ProtocolVersion
    let timeout: TimeAmount
    private let sslContext: NIOSSLContext
    private let group: any EventLoopGroup
    private let nextTarget = Atomic<Int>(0)

    init(
        targets: [Endpoint],
        sslContext: NIOSSLContext,
        version: ProtocolVersion,
        timeout: TimeAmount,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        precondition(!targets.isEmpty, "a client needs a target")
        self.targets = targets
        self.sslContext = sslContext
        self.version = version
        self.timeout = timeout
        self.group = group
    }

    /// The TLS context for a client certificate and key (PEM files) and the CA that signed the
    /// server's certificate. Reads the files on NIO's thread pool.
    static func makeSSLContext(caFile: String, certificateFile: String, keyFile: String) async throws -> NIOSSLContext {
        try await NIOThreadPool.singleton.runIfActive {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            return try NIOSSLContext(configuration: configuration)
        }
    }

    /// Opens a connection (TCP connect, then the TLS handshake), runs `body` on it and closes it.
    ///
    /// - Throws: ``LoadFailure`` of kind `connect` or `handshake` when no target could be reached,
    ///   or whatever `body` throws.
    func withConnection<Result: Sendable>(
        _ body: (KMIPConnection) async throws -> Result
    ) async throws -> Result {
        let first = self.nextTarget.add(1, ordering: .relaxed).oldValue
        var lastFailure = LoadFailure(.connect, "no target")
        for attempt in 0..<self.targets.count {
            let endpoint = self.targets[(first &+ attempt) % self.targets.count]
            let opened: Opened
            do {
                opened = try await self.open(endpoint, failovers: attempt)
            } catch let failure as LoadFailure {
                lastFailure = failure
                continue
            }
            return try await opened.channel.executeThenClose { inbound, outbound in
                let connection = KMIPConnection(
                    inbound: inbound,
                    outbound: outbound,
                    version: self.version,
                    timings: opened.timings
                )
                return try await body(connection)
            }
        }
        throw lastFailure
    }

    private struct Opened: Sendable {
        var channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        var timings: ConnectionTimings
    }

    private func open(_ endpoint: Endpoint, failovers: Int) async throws -> Opened {
        let clock = ContinuousClock()
        let start = clock.now
        let serverHostname = endpoint.hostIsAddress ? nil : endpoint.host
        let sslContext = self.sslContext
        let timeout = self.timeout
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        let handshake: EventLoopFuture<Void>
        do {
            (channel, handshake) = try await ClientBootstrap(group: self.group)
                .connectTimeout(timeout)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .connect(host: endpoint.host, port: endpoint.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let promise = channel.eventLoop.makePromise(of: Void.self)
                        let operations = channel.pipeline.syncOperations
                        try operations.addHandler(IdleStateHandler(readTimeout: timeout))
                        try operations.addHandler(
                            try NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname)
                        )
                        try operations.addHandler(ConnectionWatcher(handshake: promise, timeout: timeout))
                        try operations.addHandler(ByteToMessageHandler(TTLVFrameDecoder()))
                        let channel = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                        return (channel, promise.futureResult)
                    }
                }
        } catch {
            throw LoadFailure(.connect, "\(endpoint): \(error)")
        }
        let connected = clock.now
        do {
            try await handshake.get()
        } catch {
            try? await channel.channel.close()
            if let failure = error as? LoadFailure { throw failure }
            throw LoadFailure(.handshake, "\(endpoint): \(error)")
        }
        let timings = ConnectionTimings(
            endpoint: endpoint,
            connect: connected - start,
            handshake: clock.now - connected,
            failovers: failovers
        )
        return Opened(channel: channel, timings: timings)
    }
}

/// How long one connection took to open.
struct ConnectionTimings: Sendable {
    var endpoint: Endpoint
    /// From the start of the TCP connect to the connection being established.
    var connect: Duration
    /// From the established TCP connection to the end of the TLS handshake (client side).
    var handshake: Duration
    /// Targets tried and given up before this one.
    var failovers: Int
}

/// Watches a new connection: completes `handshake` when TLS finishes (or fails it), and turns a
/// read timeout of `IdleStateHandler` into a ``LoadFailure`` of kind `timeout` that closes the
/// connection.
private final class ConnectionWatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let handshake: EventLoopPromise<Void>
    private let timeout: TimeAmount
    private var handshakeDone = false

    init(handshake: EventLoopPromise<Void>, timeout: TimeAmount) {
        self.handshake = handshake
        self.timeout = timeout
    }

    private func finishHandshake(_ result: Result<Void, any Error>) {
        guard !self.handshakeDone else { return }
        self.handshakeDone = true
        self.handshake.completeWith(result)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            self.finishHandshake(.success(()))
        } else if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            let seconds = Double(self.timeout.nanoseconds) / 1e9
            let failure = LoadFailure(.timeout, "no data for \(seconds) s")
            self.finishHandshake(.failure(failure))
            context.fireErrorCaught(failure)
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.finishHandshake(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.finishHandshake(.failure(LoadFailure(.handshake, "the server closed the connection during the handshake")))
        context.fireChannelInactive()
    }

    /// A connect that fails (the server is down) closes a channel that never became active: no
    /// `channelInactive`, only the removal of the handlers. The handshake fails then too, so its
    /// promise is never left incomplete.
    func handlerRemoved(context: ChannelHandlerContext) {
        self.finishHandshake(.failure(LoadFailure(.connect, "the connection closed before its handshake")))
    }
}

/// One open KMIP connection: requests go out one at a time, each answered before the next.
final class KMIPConnection {
    let timings: ConnectionTimings
    let version: ProtocolVersion
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var exchanges = 0

    init(
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        version: ProtocolVersion,
        timings: ConnectionTimings
    ) {
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
        self.version = version
        self.timings = timings
    }

    /// Sends one request with a single batch item and returns the response payload.
    ///
    /// - Throws: ``LoadFailure``: `kmip:<reason>` when the server answers Operation Failed,
    ///   `protocol` for a response that does not fit, `io`/`timeout`/`handshake` for the transport.
    func call<P: KMIPRequestPayload>(_ payload: P) async throws -> ResponsePayload? {
        let request = RequestMessage(version: self.version, batchItems: [RequestBatchItem(payload)])
        let first = self.exchanges == 0
        self.exchanges += 1
        let frame: ByteBuffer
        do {
            try await self.outbound.write(ByteBuffer(bytes: request.encoded()))
            guard let next = try await self.inbound.next() else {
                throw LoadFailure(.io, "the server closed the connection before answering")
            }
            frame = next
        } catch let failure as LoadFailure {
            throw failure
        } catch {
            // With TLS 1.3 the client's handshake ends before the server has checked the client
            // certificate: a refusal arrives as an alert on the first read.
            let tlsError = error is NIOSSLError || error is BoringSSLError
            throw LoadFailure(first && tlsError ? .handshake : .io, "\(error)")
        }
        let response: ResponseMessage
        do {
            response = try ResponseMessage(decoding: Array(frame.readableBytesView), mode: .lenient)
        } catch {
            throw LoadFailure(.protocol, "malformed response: \(error)")
        }
        guard response.batchItems.count == 1, let item = response.batchItems.first else {
            throw LoadFailure(.protocol, "\(response.batchItems.count) batch items in the response")
        }
        guard item.resultStatus == .success else {
            let reason = item.resultReason?.name ?? item.resultStatus.name
            throw LoadFailure(.kmip(reason: reason), item.resultMessage ?? reason)
        }
        return item.payload
    }
}

@available(*, unavailable)
extension KMIPConnection: Sendable {}
