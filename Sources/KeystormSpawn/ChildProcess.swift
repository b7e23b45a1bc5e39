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
import Glibc
import Synchronization

/// A child process started with `posix_spawn`, for tests, scripts and benchmarks.
///
/// Foundation's `Process.run()` on Linux lists `/proc/self/fd` before it spawns and copies each
/// entry's whole 256-byte name, reading past the end of readdir's buffer
/// (`findMaximumOpenFromProcSelfFD`); with many descriptors open, as in a test process that
/// holds hundreds of sockets, that read crosses into an unmapped page and the process dies of
/// SIGSEGV. `ChildProcess` does not list descriptors: every descriptor it creates is
/// close-on-exec, and the child closes everything above standard error before `exec`
/// (`posix_spawn_file_actions_addclosefrom_np`).
///
/// A thread of its own spawns the child and then waits for it, so no thread of the cooperative
/// pool blocks, and the parent-death signal (``Configuration/diesWithParent``) fires only when
/// the child is gone or this process dies. Collected output is drained by a thread per pipe, so a
/// chatty child never blocks on a full pipe.
///
/// ```swift
/// let result = try await ChildProcess.run("/usr/bin/openssl", ["version"])
/// guard result.succeeded else { ... }
/// print(result.output)
/// ```
public final class ChildProcess: Sendable {
    /// How the child ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        /// The exit code, or the signal number for a child killed by a signal.
        public var status: Int32 {
            switch self {
            case .exited(let code): code
            case .signalled(let signal): signal
            }
        }

        public var succeeded: Bool { self == .exited(0) }

        public var description: String {
            switch self {
            case .exited(let code): "exit code \(code)"
            case .signalled(let signal): "signal \(signal)"
            }
        }
    }

    /// The child's standard input.
    public enum Input: Sendable {
        /// `/dev/null`: the child sees end-of-file at once.
        case null
        /// A file opened for reading.
        case file(String)
        /// These bytes, written by a thread of their own, then end-of-file.
        case bytes([UInt8])
        /// A pipe that stays open and empty until the child exits, for children that stop at
        /// end-of-file on standard input (`openssl s_server`).
        case heldOpen
    }

    /// Where the child's standard output goes.
    public enum Output: Sendable {
        case null
        /// Appended to this file (created with mode 0600 when missing).
        case file(String)
        /// Kept in memory: ``output``.
        case collected
    }

    /// Where the child's standard error goes.
    public enum ErrorOutput: Sendable {
        case null
        case file(String)
        /// Kept in memory: ``errorOutput``.
        case collected
        /// The same place as standard output.
        case withOutput
    }

    /// What to start and how.
    public struct Configuration: Sendable {
        /// An absolute path, or a name looked up on `PATH`.
        public var executable: String
        public var arguments: [String]
        /// The whole environment; `nil` passes this process's own.
        public var environment: [String: String]?
        /// The child's working directory; `nil` keeps this process's.
        public var directory: String?
        public var input: Input
        public var output: Output
        public var error: ErrorOutput
        /// Runs the child under `setpriv --pdeathsig KILL` (util-linux) when it is installed, so a
        /// test process that crashes or is killed leaves no server behind.
        public var diesWithParent: Bool

        public init(
            _ executable: String,
            _ arguments: [String] = [],
            environment: [String: String]? = nil,
            directory: String? = nil,
            input: Input = .null,
            output: Output = .collected,
            error: ErrorOutput = .withOutput,
            diesWithParent: Bool = false
        ) {
            self.executable = executable
            self.arguments = arguments
            self.environment = environment
            self.directory = directory
            self.input = input
            self.output = output
            self.error = error
            self.diesWithParent = diesWithParent
        }

        /// The command as a person would type it, for error messages.
        public var commandLine: String { ([self.executable] + self.arguments).joined(separator: " ") }
    }

    /// What ``run(_:_:environment:directory:input:timeout:)`` returns.
    public struct Result: Sendable {
        public var termination: Termination
        /// Standard output and standard error, interleaved as the child wrote them.
        public var output: String
        public var status: Int32 { self.termination.status }
        public var succeeded: Bool { self.termination.succeeded }
    }

    public let pid: Int32
    public let configuration: Configuration
    private let shared: Shared

    /// Starts the child. Throws ``ChildProcessError`` when a file cannot be opened or the
    /// executable cannot be started.
    public init(_ configuration: Configuration) throws {
        var configuration = configuration
        if configuration.diesWithParent, let setpriv = Self.onPath("setpriv") {
            configuration.arguments = ["--pdeathsig", "KILL", configuration.executable] + configuration.arguments
            configuration.executable = setpriv
        }
        if !configuration.executable.contains("/") {
            guard let found = Self.onPath(configuration.executable) else {
                throw ChildProcessError("\(configuration.executable): not found on PATH")
            }
            configuration.executable = found
        }
        self.configuration = configuration
        let shared = Shared()
        let plan = try SpawnPlan(configuration, shared: shared)
        self.pid = try plan.spawnOnWaiterThread()
        self.shared = shared
    }

    /// `true` until the child has exited and been reaped.
    public var isRunning: Bool { self.shared.state.withLock { $0.termination == nil } }

    /// How the child ended, or `nil` while it runs.
    public var termination: Termination? { self.shared.state.withLock { $0.termination } }

    /// Standard output (and standard error with ``ErrorOutput/withOutput``) collected so far.
    public var output: String { String(decoding: self.shared.state.withLock { $0.output }, as: UTF8.self) }

    /// Standard error collected so far (``ErrorOutput/collected``).
    public var errorOutput: String { String(decoding: self.shared.state.withLock { $0.error }, as: UTF8.self) }

    /// Sends `signal` unless the child has already been reaped (so the number never reaches a
    /// process that took over the pid).
    public func signal(_ signal: Int32) {
        self.shared.state.withLock { state in
            if state.termination == nil { _ = kill(self.pid, signal) }
        }
    }

    /// Waits for the child to exit, for at most `timeout`; `nil` when it still runs. With
    /// collected output, also waits for the pipes' end-of-file, for at most 2 s more (a
    /// grandchild may hold them).
    @discardableResult
    public func wait(timeout: Duration) async -> Termination? {
        var wait = ExitWait(timeout: timeout)
        while true {
            if let outcome = wait.check(self.shared) { return outcome.termination }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The blocking form of ``wait(timeout:)``, for synchronous callers on threads of their own.
    @discardableResult
    public func waitBlocking(timeout: Duration) -> Termination? {
        var wait = ExitWait(timeout: timeout)
        while true {
            if let outcome = wait.check(self.shared) { return outcome.termination }
            usleep(5_000)
        }
    }

    /// One wait's deadlines: for the exit, then for the output's end-of-file.
    private struct ExitWait {
        struct Outcome {
            var termination: Termination?
        }

        let clock = ContinuousClock()
        let deadline: ContinuousClock.Instant
        var drainDeadline: ContinuousClock.Instant?

        init(timeout: Duration) {
            self.deadline = self.clock.now + timeout
        }

        /// The outcome once the wait is over; `nil` to keep waiting.
        mutating func check(_ shared: Shared) -> Outcome? {
            let (termination, drained) = shared.state.withLock { ($0.termination, $0.openReaders == 0) }
            let now = self.clock.now
            guard let termination else { return now >= self.deadline ? Outcome(termination: nil) : nil }
            if drained { return Outcome(termination: termination) }
            let drainDeadline = self.drainDeadline ?? now + .seconds(2)
            self.drainDeadline = drainDeadline
            return now >= drainDeadline ? Outcome(termination: termination) : nil
        }
    }

    /// SIGTERM, then SIGKILL when the child has not exited within `grace`; returns how it ended
    /// (`nil` only if it survived SIGKILL for 30 s).
    @discardableResult
    public func terminate(grace: Duration = .seconds(20)) async -> Termination? {
        self.signal(SIGTERM)
        if let termination = await self.wait(timeout: grace) { return termination }
        self.signal(SIGKILL)
        return await self.wait(timeout: .seconds(30))
    }

    /// Runs a command to its end and returns its exit and its output (standard output and error
    /// together). A child still running after `timeout` is killed and the call throws.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: String? = nil,
        input: Input = .null,
        timeout: Duration = .seconds(120)
    ) async throws -> Result {
        let child = try ChildProcess(
            Configuration(executable, arguments, environment: environment, directory: directory, input: input)
        )
        guard let termination = await child.wait(timeout: timeout) else {
            child.signal(SIGKILL)
            await child.wait(timeout: .seconds(30))
            throw child.timedOut(timeout)
        }
        return Result(termination: termination, output: child.output)
    }

    /// The blocking form of ``run(_:_:environment:directory:input:timeout:)``.
    public static func runBlocking(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: String? = nil,
        input: Input = .null,
        timeout: Duration = .seconds(120)
    ) throws -> Result {
        let child = try ChildProcess(
            Configuration(executable, arguments, environment: environment, directory: directory, input: input)
        )
        guard let termination = child.waitBlocking(timeout: timeout) else {
            child.signal(SIGKILL)
            child.waitBlocking(timeout: .seconds(30))
            throw child.timedOut(timeout)
        }
        return Result(termination: termination, output: child.output)
    }

    /// The error of a run that outlived `timeout`, with what the child printed.
    private func timedOut(_ timeout: Duration) -> ChildProcessError {
        ChildProcessError("\(self.configuration.commandLine) did not exit within \(timeout); output:\n\(self.output)")
    }

    /// The first executable file named `name` in a directory of `PATH`.
    public static func onPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// State shared with the waiter and reader threads (which must not keep the
    /// `ChildProcess` itself alive).
    final class Shared: Sendable {
        struct State {
            var termination: Termination?
            var output: [UInt8] = []
            var error: [UInt8] = []
            var openReaders = 0
        }

        let state = Mutex(State())
    }
}

/// A child process could not be started, or did not end in time. The text names the command or
/// the file and the cause.
public struct ChildProcessError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }

    static func system(_ call: String, _ subject: String, _ code: Int32) -> ChildProcessError {
        ChildProcessError("\(call) \(subject): \(String(cString: strerror(code)))")
    }
}
