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

import KeystormTestSupport
import Testing

extension LiveServerTests {
    /// The real vCenter 7.0.3 capture replayed against `keystorm serve`, one fresh mutual-TLS
    /// connection per request as vCenter connects: the same results as the in-process replay.
    @Suite("vCenter replay, live")
    struct VCenterLiveTests {
        @Test(.enabled(if: VCenterReplay.isAvailable, "skipped: capture absent (../shared/kmip-vectors/derived)"))
        func replayOverMutualTLSWithAConnectionPerRequest() async throws {
            try await LiveServer.with { server in
                let client = try server.client()
                let result = try await VCenterReplay.run { try await client.send($0) }
                #expect(result.requests == 102)
                #expect(result.mismatches.isEmpty, "\(result.mismatches)")
                print(
                    "vCenter live replay: \(result.requests) requests over \(result.requests) mTLS connections, \(result.mismatches.count) mismatches"
                )
            }
        }
    }
}
