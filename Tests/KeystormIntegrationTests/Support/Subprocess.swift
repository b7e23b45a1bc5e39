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

import Foundation
import KeystormSpawn
import Synchronization

/// A failure of the live-server test machinery, with what it saw.
struct LiveTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a child process (``ChildProcess``) and waits for it with a bound: nothing in these tests
/// waits forever for a process.
enum Subprocess {
    struct Outcome: Sendable {
        var status: Int32
        var output: String
        var succeeded: Bool { self.status == 0 }
    }

    /// Runs `executable` with `arguments`; stdout and stderr together in the output. A process
    /// still running after `timeout` is killed and reported as a failure.
    static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        timeout: Duration = .seconds(120)
    ) async throws -> Outcome {
        do {
            let result = try await ChildProcess.run(executable, arguments, environment: environment, timeout: timeout)
            return Outcome(status: result.status, output: result.output)
        } catch let error as ChildProcessError {
            throw LiveTestFailure(error.description)
        }
    }

    /// The first executable named `name` on PATH, if any.
    static func onPath(_ name: String) -> String? {
        ChildProcess.onPath(name)
    }
}

/// Retries `body` until it returns a value, pausing between attempts, for at most `timeout`;
/// then throws the last error. For effects that take a refresh interval to show (client rules).
func retrying<T>(
    timeout: Duration = .seconds(60),
    every pause: Duration = .milliseconds(250),
    _ what: String,
    _ body: () async throws -> T?
) async throws -> T {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    var last = "no attempt"
    while true {
        do {
            if let value = try await body() { return value }
            last = "not yet"
        } catch {
            last = "\(error)"
        }
        if clock.now >= deadline { throw LiveTestFailure("\(what): still not after \(timeout) (last: \(last))") }
        try await Task.sleep(for: pause)
    }
}
