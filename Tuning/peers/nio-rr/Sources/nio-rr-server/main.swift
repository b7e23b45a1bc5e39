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

// SwiftNIO + NIOSSL mutual-TLS request/response server: every 80 request bytes get a 120-byte
// response. Used only by Tuning/scripts/reactor-bench.sh as the comparison peer.
//
//   nio-rr-server --port P --cert F --key F --ca F [--threads N]

import NIOCore
import NIOPosix
import NIOSSL

/// Answers each complete 80-byte request with 120 bytes; flushes once per read burst.
final class RequestResponseHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var buffered = 0
    private var wrote = false
    private let response: ByteBuffer

    init(response: ByteBuffer) {
        self.response = response
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.buffered += self.unwrapInboundIn(data).readableBytes
        while self.buffered >= 80 {
            self.buffered -= 80
            context.write(self.wrapOutboundOut(self.response), promise: nil)
            self.wrote = true
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.wrote {
            self.wrote = false
            context.flush()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

func argument(_ name: String, default value: String? = nil) -> String {
    let arguments = CommandLine.arguments
    if let index = arguments.firstIndex(of: name), index + 1 < arguments.count { return arguments[index + 1] }
    guard let value else { fatalError("missing \(name)") }
    return value
}

let port = Int(argument("--port"))!
let threads = Int(argument("--threads", default: "1"))!
var tls = TLSConfiguration.makeServerConfiguration(
    certificateChain: try NIOSSLCertificate.fromPEMFile(argument("--cert")).map { .certificate($0) },
    privateKey: .privateKey(try NIOSSLPrivateKey(file: argument("--key"), format: .pem))
)
tls.certificateVerification = .noHostnameVerification
tls.trustRoots = .file(argument("--ca"))
tls.minimumTLSVersion = .tlsv12
let sslContext = try NIOSSLContext(configuration: tls)
let response = ByteBuffer(repeating: 0x52, count: 120)

let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
let channel = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
            try channel.pipeline.syncOperations.addHandler(RequestResponseHandler(response: response))
        }
    }
    .bind(host: "127.0.0.1", port: port)
    .wait()
print("READY \(port)")
try channel.closeFuture.wait()
