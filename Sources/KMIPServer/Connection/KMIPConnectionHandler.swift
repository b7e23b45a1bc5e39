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


/// A byte stream to one client, as the transport offers it (TLS already established).
///
/// KMIPServer sees the network only through this protocol; the `keystorm` executable adapts the
/// io_uring transport to it. A channel belongs to one connection's task; it need not be Sendable.
public protocol KMIPByteChannel {
    /// The next bytes from the client; `nil` when the client closed its side.
    func receive() async throws -> [UInt8]?
    /// Sends bytes to the client.
    func send(_ bytes: [UInt8]) async throws
    /// Closes the connection (TLS close_notify, then the socket).
    func close() async
}

/// Serves one connection: frames requests, runs them through the batch executor, sends responses.
public struct KMIPConnectionHandler: Sendable {
    public let executor: BatchExecutor

    public init(executor: BatchExecutor) {
        self.executor = executor
    }

    /// Runs until the client closes, a frame is broken, or the task is cancelled.
    public func serve(_ channel: some KMIPByteChannel, client: ClientIdentity) async {
        var machine = ConnectionStateMachine(limits: self.executor.core.configuration.limits)
        var pending: [ConnectionStateMachine.Action] = [.read]
        while !Task.isCancelled, !pending.isEmpty {
            let action = pending.removeFirst()
            switch action {
            case .read:
                let bytes: [UInt8]?
                do {
                    bytes = try await channel.receive()
                } catch {
                    await channel.close()
                    return
                }
                if let bytes {
                    pending.append(machine.bytesReceived(bytes))
                } else {
                    pending.append(machine.endOfInput())
                }
            case .process(let message):
                let response = await self.executor.process(message, client: client)
                pending.append(contentsOf: machine.responseReady(response))
            case .send(let bytes):
                do {
                    try await channel.send(bytes)
                } catch {
                    await channel.close()
                    return
                }
                if machine.shouldCloseAfterSend {
                    await channel.close()
                    return
                }
            case .close:
                await channel.close()
                return
            }
        }
        await channel.close()
    }
}
