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

/// Waits until `condition` holds, checking every millisecond, for concurrency tests that must let
/// other tasks reach a point (park in a service, sleep on a ``ManualClock``) before going on.
///
/// - Throws: ``TestServerError`` naming `what` when `condition` still fails after `limit`.
public func eventually(
    _ what: String,
    within limit: Duration = .seconds(30),
    _ condition: () -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: limit)
    while !condition() {
        guard clock.now < deadline else { throw TestServerError(reason: "timed out waiting until \(what)") }
        try await Task.sleep(for: .milliseconds(1))
    }
}
