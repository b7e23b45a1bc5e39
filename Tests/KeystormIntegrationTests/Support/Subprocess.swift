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
import Synchronization

/// A failure of the live-server test machinery, with what it saw.
struct LiveTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a child process with its output in files, and waits for it with a bound: nothing in
/// these tests waits forever for a process.
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
        let outputPath = NSTemporaryDirectory() + "keystorm-subprocess-" + UUID().uuidString + ".out"
        guard FileManager.default.createFile(atPath: outputPath, contents: nil),
            let output = FileHandle(forWritingAtPath: outputPath)
        else { throw LiveTestFailure("cannot create \(outputPath)") }
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        try process.run()
        try? output.close()
        let exited = await Self.waitForExit(process, timeout: timeout)
        if !exited {
            kill(process.processIdentifier, SIGKILL)
            _ = await Self.waitForExit(process, timeout: .seconds(30))
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard exited else {
            throw LiveTestFailure(
                "\(executable) \(arguments.joined(separator: " ")) did not exit within \(timeout); output:\n\(text)"
            )
        }
        return Outcome(status: process.terminationStatus, output: text)
    }

    /// Polls until `process` has exited or `timeout` passed; `true` when it exited.
    static func waitForExit(_ process: Process, timeout: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while process.isRunning {
            if clock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// The first executable named `name` on PATH, if any.
    static func onPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
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
