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

internal import Glibc

/// Everything a ``ReactorServer`` needs: where to listen, how many loops, which I/O backend, TLS,
/// and the per-connection limits.
public struct ReactorConfiguration: Sendable {
    /// The number of online CPUs (at least 1): the default loop count.
    public static var onlineProcessors: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// The address to listen on (an IPv4 or IPv6 literal).
    public var host: String = "127.0.0.1"
    /// The port (0 picks a free one; read it back from ``ReactorServer/port``).
    public var port: Int = 0
    /// Event loops, each with its own thread, ring and `SO_REUSEPORT` listener.
    public var loopCount: Int = Self.onlineProcessors
    /// io_uring, epoll, or io_uring with an epoll fallback.
    public var ioBackend: IOBackendKind = .automatic
    /// The TLS server; `nil` serves plain TCP (tests and benchmarks only).
    public var tls: TLSServerContext?
    /// Connections served at once over all loops; further ones are closed at accept.
    public var maxConnections: Int = 10_000
    /// Time a client has to finish the TLS handshake.
    public var handshakeTimeout: Duration = .seconds(10)
    /// Connections still in their TLS handshake (not yet authenticated), over all loops; each loop
    /// has an equal share. When a loop's share is full, a new connection evicts one of that loop's
    /// handshaking connections instead of being refused (the oldest that has sent nothing, else the
    /// oldest), so clients that never finish a handshake cannot lock others out. Authenticated
    /// connections are never evicted.
    public var maxHandshakingConnections: Int = 1_000
    /// Connections in their handshake from one source (an IPv4 address or an IPv6 /64) at once;
    /// further ones from that source are closed at accept. Authenticated connections do not count.
    public var maxHandshakesPerSource: Int = 100
    /// The handshake timeout of connections accepted while a loop's handshake share is at least
    /// half full (under pressure), instead of ``handshakeTimeout``.
    public var handshakeTimeoutUnderPressure: Duration = .seconds(2)
    /// Time a read waits for data, and a write waits for the peer to read, before the connection fails.
    public var idleTimeout: Duration = .seconds(120)
    /// When this many connections closed since the most connections were open, the server asks
    /// the allocator to give freed memory back to the kernel (`malloc_trim`), at most once a
    /// second, on a loop thread; glibc keeps freed memory otherwise. 0 turns it off.
    public var memoryTrimThreshold: Int = 256
    /// Plain-text bytes queued per connection before a writer waits (TLS is bounded by its BIO).
    public var maxBufferedBytes: Int = 64 * 1024
    /// The largest chunk ``ReactorConnection/receive(maxBytes:)`` returns (its scratch buffer).
    public var receiveBufferSize: Int = 16 * 1024
    /// The listen backlog.
    public var backlog: Int = 1024
    /// Submission-queue entries per ring.
    public var ringEntries: Int = 1024
    /// Where the reactor reports start-up facts (the backend chosen, fallbacks) and refused
    /// connections. Defaults to standard error.
    public var log: @Sendable (String) -> Void = { message in
        let line = Array("IOReactor: \(message)\n".utf8)
        _ = line.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    /// Tests only: make io_uring setup fail as if the kernel refused it, to exercise the fallback.
    var simulateUringFailure = false

    /// Creates a configuration with the defaults.
    public init() {}

    var limits: ConnectionLimits {
        ConnectionLimits(
            handshakeTimeout: self.handshakeTimeout.nanoseconds,
            idleTimeout: self.idleTimeout.nanoseconds,
            maxBufferedBytes: max(1, self.maxBufferedBytes),
            receiveBufferSize: max(1, self.receiveBufferSize)
        )
    }
}
