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
import IOReactor
import Synchronization
import Testing

/// Reads fixed 32-byte frames (whatever the chunking) and answers each one byte per write.
let frameEchoByteByByte: @Sendable (sending ReactorConnection) async throws -> Void = { connection in
    var frame: [UInt8] = []
    let byte = UnsafeMutableRawBufferPointer.allocate(byteCount: 1, alignment: 1)
    defer { byte.deallocate() }
    while true {
        let count = try await connection.read(into: byte)
        if count == 0 { return }
        frame.append(byte[0])
        if frame.count == 32 {
            for value in frame { try await connection.write([value]) }
            try await connection.flush()
            frame.removeAll()
        }
    }
}

/// Raises the soft open-file limit to the hard limit (the 1,000-connection test needs ~2,100).
func raiseOpenFileLimit() {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

@Suite("Partial I/O and many connections")
struct StreamTests {
    @Test(
        "drip-fed one byte at a time in both directions",
        .timeLimit(.minutes(1)),
        arguments: allBackends,
        [false, true]
    )
    func dripFeed(backend: IOBackendKind, useTLS: Bool) async throws {
        let pki = TestPKI.shared
        let tls = useTLS ? try makeServerTLS() : nil
        try await withServer(backend: backend, tls: tls, handler: frameEchoByteByByte) {
            (server: ReactorServer) async throws in
            let port = server.port
            let ok = try await onThread { () throws -> Bool in
                let client = try BlockingClient(port: port)
                _ = CKeystorm_set_nodelay(client.fd)
                if useTLS { try client.startTLS(try ClientTLSContext(identity: pki.client, caFile: pki.caCertificate)) }
                let frames = (0..<3).map { round in (0..<32).map { UInt8(truncatingIfNeeded: $0 * 7 + round) } }
                for frame in frames {
                    for value in frame { try client.write([value]) }  // one TCP segment / TLS record per byte
                    var reply: [UInt8] = []
                    while reply.count < 32 { reply += try client.read(count: 1) }
                    guard reply == frame else { return false }
                }
                client.shutdown()
                return true
            }
            #expect(ok)
        }
    }

    @Test("1,000 concurrent TLS connections are served", .timeLimit(.minutes(3)), arguments: allBackends)
    func thousandConnections(backend: IOBackendKind) async throws {
        raiseOpenFileLimit()
        let pki = TestPKI.shared
        let peak = Mutex((current: 0, peak: 0))
        let handler: @Sendable (sending ReactorConnection) async throws -> Void = { connection in
            peak.withLock {
                $0.current += 1
                $0.peak = max($0.peak, $0.current)
            }
            defer { peak.withLock { $0.current -= 1 } }
            try await TestHandlers.echo(connection)
        }
        let context = try ClientTLSContext(identity: pki.client, caFile: pki.caCertificate)
        try await withServer(backend: backend, tls: try makeServerTLS(tickets: 0), handler: handler) {
            (server: ReactorServer) async throws in
            let port = server.port
            let threads = 8
            let perThread = 125
            let barrier = Barrier(count: threads)
            let served = try await withThrowingTaskGroup(of: Int.self) { group in
                for thread in 0..<threads {
                    group.addTask {
                        try await onThread { () throws -> Int in
                            var clients: [BlockingClient] = []
                            for _ in 0..<perThread {
                                let client = try BlockingClient(port: port)
                                try client.startTLS(context)
                                clients.append(client)
                            }
                            barrier.arriveAndWait()  // all 1,000 are open at once from here
                            var ok = 0
                            for (index, client) in clients.enumerated() {
                                let message = Array("thread \(thread) connection \(index)".utf8)
                                try client.write(message)
                                if try client.read(count: message.count) == message { ok += 1 }
                            }
                            for client in clients { client.shutdown() }
                            return ok
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(served == threads * perThread)
        }
        #expect(peak.withLock { $0.peak } == 1000)
    }
}

/// A one-shot barrier for the client threads (blocking; used only on dedicated threads).
final class Barrier: Sendable {
    private let state: Mutex<Int>
    private let semaphore = DispatchSemaphore(value: 0)
    private let count: Int

    init(count: Int) {
        self.count = count
        self.state = Mutex(0)
    }

    func arriveAndWait() {
        let arrived = self.state.withLock {
            $0 += 1
            return $0
        }
        if arrived == self.count {
            for _ in 0..<(self.count - 1) { self.semaphore.signal() }
        } else {
            _ = self.semaphore.wait(timeout: .now() + 120)
        }
    }
}

@Suite("Framing with read(appendingTo:)")
struct AppendingReadTests {
    @Test(
        "80-byte requests framed in a reused buffer get 120-byte answers",
        .timeLimit(.minutes(1)),
        arguments: allBackends,
        [false, true]
    )
    func framer(backend: IOBackendKind, useTLS: Bool) async throws {
        let pki = TestPKI.shared
        let handler: @Sendable (sending ReactorConnection) async throws -> Void = { connection in
            var buffer: [UInt8] = []
            while try await connection.read(appendingTo: &buffer, maxBytes: 100) > 0 {
                let frames = buffer.count / 80
                for index in 0..<frames {
                    let first = buffer[index * 80]
                    try await connection.write([UInt8](repeating: first, count: 120))
                }
                buffer.removeFirst(frames * 80)
            }
        }
        let tls = useTLS ? try makeServerTLS() : nil
        try await withServer(backend: backend, tls: tls, handler: handler) { (server: ReactorServer) async throws in
            let port = server.port
            let reply = try await onThread { () throws -> [UInt8] in
                let client = try BlockingClient(port: port)
                if useTLS { try client.startTLS(try ClientTLSContext(identity: pki.client, caFile: pki.caCertificate)) }
                // Five requests in one write, then a sixth split across two writes.
                try client.write((1...5).flatMap { [UInt8](repeating: $0, count: 80) })
                try client.write([UInt8](repeating: 6, count: 30))
                try client.write([UInt8](repeating: 6, count: 50))
                let reply = try client.read(count: 6 * 120)
                client.shutdown()
                return reply
            }
            #expect(reply == (1...6).flatMap { [UInt8](repeating: $0, count: 120) })
        }
    }
}
