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

import IOReactor
import KMIPServer

/// A TLS connection of the io_uring transport, as the KMIP server's byte channel.
///
/// It lives in the connection's handler task, on the connection's loop; nothing crosses threads.
struct ReactorByteChannel: KMIPByteChannel {
    let connection: ReactorConnection

    func receive() async throws -> [UInt8]? {
        try await self.connection.receive()
    }

    func send(_ bytes: [UInt8]) async throws {
        try await self.connection.write(bytes)
    }

    /// The transport closes the connection (close_notify, flush) when the handler returns.
    func close() async {}
}
