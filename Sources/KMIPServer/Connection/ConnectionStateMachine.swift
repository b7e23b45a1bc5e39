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

public import KMIPCodec

/// The life of one KMIP connection, as a pure value: bytes in, actions out, no I/O.
///
/// KMIP clients send one request and wait for its response (vCenter opens a connection per
/// operation), so the machine processes one message at a time and reads on while it waits.
/// A broken frame (a header that cannot start a message, or a length over the limit) closes the
/// connection: the stream cannot be resynchronised. A complete message that fails to parse is
/// still processed, so the client gets an Invalid Message response.
public struct ConnectionStateMachine: Sendable {
    public enum State: Sendable, Equatable {
        /// Waiting for (the rest of) a request.
        case idle
        /// A request is being processed; further bytes are buffered.
        case processing
        /// Closing after the pending response (if any) is sent.
        case closing
        case closed
    }

    /// What the connection should do next.
    public enum Action: Sendable, Equatable {
        /// Process this request message and report back with `responseReady`.
        case process([UInt8])
        /// Send these bytes.
        case send([UInt8])
        /// Keep reading.
        case read
        /// Close the connection.
        case close(reason: String)
    }

    public private(set) var state: State = .idle
    private var framer: TTLV.Framer
    /// The most bytes buffered beyond a message being processed.
    private let maxBuffered: Int

    public init(limits: TTLVLimits = .default) {
        self.framer = TTLV.Framer(limits: limits)
        self.maxBuffered = limits.maxMessageSize * 2
    }

    /// Bytes arrived from the client.
    public mutating func bytesReceived(_ bytes: some Sequence<UInt8>) -> Action {
        switch self.state {
        case .closing, .closed:
            return .read
        case .processing:
            self.framer.append(bytes)
            if self.framer.bufferedByteCount > self.maxBuffered {
                self.state = .closing
                return .close(reason: "client sent more than \(self.maxBuffered) bytes ahead of its responses")
            }
            return .read
        case .idle:
            self.framer.append(bytes)
            return self.nextMessage()
        }
    }

    /// The response to the message being processed is ready.
    public mutating func responseReady(_ response: [UInt8]) -> [Action] {
        guard self.state == .processing else { return [] }
        self.state = .idle
        return [.send(response), self.nextMessage()]
    }

    /// The client closed its side.
    public mutating func endOfInput() -> Action {
        switch self.state {
        case .processing:
            // Finish the request in flight, then close.
            self.state = .closing
            return .read
        case .idle:
            self.state = .closed
            return .close(reason: self.framer.bufferedByteCount > 0 ? "client closed inside a message" : "client closed")
        case .closing, .closed:
            self.state = .closed
            return .close(reason: "client closed")
        }
    }

    /// After a response was sent while `closing`: whether to close now.
    public var shouldCloseAfterSend: Bool { self.state == .closing }

    private mutating func nextMessage() -> Action {
        do {
            if let message = try self.framer.nextMessage() {
                self.state = .processing
                return .process(message)
            }
            return .read
        } catch {
            self.state = .closed
            return .close(reason: "unreadable message frame: \(error.reason)")
        }
    }
}
