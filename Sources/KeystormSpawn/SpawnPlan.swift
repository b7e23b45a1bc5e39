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

/// The descriptors of one spawn: what the child gets as 0, 1 and 2, what the parent keeps.
///
/// Every descriptor here is created close-on-exec. The plan owns them until
/// ``spawnOnWaiterThread()`` hands them to the child (`dup2` in the child), to reader and writer
/// threads, or closes them.
struct SpawnPlan: ~Copyable {
    /// Per standard descriptor (0, 1, 2): a parent descriptor to `dup2`, or a path to open.
    private enum Source {
        case descriptor(Int32)
        case open(String, Int32)
        case sameAsOutput
    }

    private let configuration: ChildProcess.Configuration
    private let shared: ChildProcess.Shared
    private var sources: [Source] = []
    /// Read ends drained into the shared state: (descriptor, is standard error).
    private var readers: [(Int32, Bool)] = []
    /// The write end of standard input and the bytes to write, for ``ChildProcess/Input/bytes(_:)``.
    private var inputWriter: (Int32, [UInt8])?
    /// The write end of a held-open standard input, closed when the child has been reaped.
    private var heldOpen: Int32?

    init(_ configuration: ChildProcess.Configuration, shared: ChildProcess.Shared) throws {
        self.configuration = configuration
        self.shared = shared
        do {
            try self.planInput()
            try self.planOutput()
            try self.planError()
        } catch {
            self.closeAll()
            throw error
        }
        let readerCount = self.readers.count
        shared.state.withLock { $0.openReaders = readerCount }
    }

    private mutating func planInput() throws {
        switch self.configuration.input {
        case .null:
            self.sources.append(.open("/dev/null", O_RDONLY))
        case .file(let path):
            self.sources.append(.descriptor(try self.openFile(path, O_RDONLY)))
        case .bytes(let bytes):
            let (read, write) = try self.pipe()
            self.sources.append(.descriptor(read))
            self.inputWriter = (write, bytes)
        case .heldOpen:
            let (read, write) = try self.pipe()
            self.sources.append(.descriptor(read))
            self.heldOpen = write
        }
    }

    private mutating func planOutput() throws {
        try self.planWritable(self.configuration.output, isError: false)
    }

    private mutating func planError() throws {
        switch self.configuration.error {
        case .null: try self.planWritable(.null, isError: true)
        case .file(let path): try self.planWritable(.file(path), isError: true)
        case .collected: try self.planWritable(.collected, isError: true)
        case .withOutput: self.sources.append(.sameAsOutput)
        }
    }

    /// Standard output or standard error going to `destination`.
    private mutating func planWritable(_ destination: ChildProcess.Output, isError: Bool) throws {
        switch destination {
        case .null:
            self.sources.append(.open("/dev/null", O_WRONLY))
        case .file(let path):
            self.sources.append(.descriptor(try self.openFile(path, O_WRONLY | O_CREAT | O_APPEND)))
        case .collected:
            let (read, write) = try self.pipe()
            self.sources.append(.descriptor(write))
            self.readers.append((read, isError))
        }
    }

    /// A close-on-exec descriptor of `path`, for the child's `dup2`.
    private func openFile(_ path: String, _ flags: Int32) throws -> Int32 {
        let fd = open(path, flags | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ChildProcessError.system("open", path, errno) }
        return fd
    }

    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32

    /// A close-on-exec pipe: `pipe2` (a GNU call Swift's Glibc module does not declare), else
    /// `pipe` and `fcntl` (another thread's spawn in between is covered by the child's closefrom).
    private func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        if let pipe2: Pipe2 = dynamicSymbol("pipe2") {
            guard pipe2(&fds, O_CLOEXEC) == 0 else { throw ChildProcessError.system("pipe2", "", errno) }
        } else {
            guard Glibc.pipe(&fds) == 0 else { throw ChildProcessError.system("pipe", "", errno) }
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }
        return (fds[0], fds[1])
    }

    private func closeAll() {
        for case .descriptor(let fd) in self.sources { close(fd) }
        for (fd, _) in self.readers { close(fd) }
        if let (fd, _) = self.inputWriter { close(fd) }
        if let fd = self.heldOpen { close(fd) }
    }

    /// Starts the waiter thread, which spawns the child and then reaps it; returns the child's
    /// pid once it is started, then starts the reader and writer threads.
    consuming func spawnOnWaiterThread() throws -> pid_t {
        let started = SpawnReport()
        let request = SpawnRequest(
            executable: self.configuration.executable,
            argv: [self.configuration.executable] + self.configuration.arguments,
            environment: self.configuration.environment.map { $0.map { "\($0.key)=\($0.value)" } },
            directory: self.configuration.directory,
            sources: self.sources.map { source -> SpawnRequest.Source in
                switch source {
                case .descriptor(let fd): .descriptor(fd)
                case .open(let path, let flags): .open(path, flags)
                case .sameAsOutput: .sameAsOutput
                }
            },
            heldOpen: self.heldOpen
        )
        let shared = self.shared
        let thread = Thread { Waiter.run(request, report: started, shared: shared) }
        thread.name = "child process \(URL(fileURLWithPath: self.configuration.executable).lastPathComponent)"
        thread.start()
        let outcome = started.wait()
        // The child has its copies (or was never started): the parent's go.
        for case .descriptor(let fd) in self.sources { close(fd) }
        switch outcome {
        case .failure(let error):
            for (fd, _) in self.readers { close(fd) }
            if let (fd, _) = self.inputWriter { close(fd) }
            shared.state.withLock { $0.openReaders = 0 }
            throw error
        case .success(let pid):
            for (fd, isError) in self.readers { Drain.start(fd, isError: isError, shared: shared) }
            if let (fd, bytes) = self.inputWriter { Drain.feed(fd, bytes) }
            return pid
        }
    }
}

/// What the waiter thread needs, as plain values.
private struct SpawnRequest: Sendable {
    enum Source: Sendable {
        case descriptor(Int32)
        case open(String, Int32)
        case sameAsOutput
    }

    var executable: String
    var argv: [String]
    var environment: [String]?
    var directory: String?
    var sources: [Source]
    var heldOpen: Int32?
}

/// The waiter thread's answer to the thread that asked for the spawn.
private final class SpawnReport: Sendable {
    private let outcome = Mutex<Result<pid_t, ChildProcessError>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    func post(_ value: Result<pid_t, ChildProcessError>) {
        self.outcome.withLock { $0 = value }
        self.done.signal()
    }

    func wait() -> Result<pid_t, ChildProcessError> {
        self.done.wait()
        return self.outcome.withLock { $0! }
    }
}

private enum Waiter {
    typealias PathAction =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, UnsafePointer<CChar>?)
        -> Int32
    typealias DescriptorAction = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

    /// Spawns, reports, then blocks in `waitid` until the child exits and records how it ended.
    static func run(_ request: SpawnRequest, report: SpawnReport, shared: ChildProcess.Shared) {
        let spawned = Self.spawn(request)
        report.post(spawned)
        guard case .success(let pid) = spawned else {
            if let fd = request.heldOpen { close(fd) }
            return
        }
        // Wait without reaping, then reap under the lock that `signal(_:)` takes: a signal is
        // never sent to a pid that has been reaped and may belong to another process.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        shared.state.withLock { state in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            state.termination = Self.termination(status)
        }
        if let fd = request.heldOpen { close(fd) }
    }

    private static func termination(_ status: Int32) -> ChildProcess.Termination {
        let low = status & 0x7f
        return low == 0 ? .exited((status >> 8) & 0xff) : .signalled(low)
    }

    private static func spawn(_ request: SpawnRequest) -> Result<pid_t, ChildProcessError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, source) in request.sources.enumerated() {
            switch source {
            case .descriptor(let fd): posix_spawn_file_actions_adddup2(&actions, fd, Int32(target))
            case .open(let path, let flags): posix_spawn_file_actions_addopen(&actions, Int32(target), path, flags, 0)
            case .sameAsOutput: posix_spawn_file_actions_adddup2(&actions, 1, Int32(target))
            }
        }
        if let directory = request.directory {
            guard let chdir: PathAction = dynamicSymbol("posix_spawn_file_actions_addchdir_np") else {
                return .failure(ChildProcessError("this C library cannot set a child's working directory"))
            }
            _ = chdir(&actions, directory)
        }
        // Descriptors this process opened without close-on-exec (by any library) stay out of
        // the child. Without the call (a C library before glibc 2.34) ours are close-on-exec anyway.
        if let closeFrom: DescriptorAction = dynamicSymbol("posix_spawn_file_actions_addclosefrom_np") {
            _ = closeFrom(&actions, 3)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Default dispositions and an empty mask: a child must not inherit an ignored SIGPIPE or
        // a blocked signal from this process.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = request.argv.map { strdup($0) } + [nil]
        let environment = request.environment.map { $0.map { strdup($0) } + [nil] }
        defer {
            for string in argv { free(string) }
            for string in environment ?? [] { free(string) }
        }
        var pid = pid_t()
        let code: Int32
        if let environment {
            code = posix_spawn(&pid, request.executable, &actions, &attributes, argv, environment)
        } else {
            code = posix_spawn(&pid, request.executable, &actions, &attributes, argv, environ)
        }
        guard code == 0 else { return .failure(.system("posix_spawn", request.executable, code)) }
        return .success(pid)
    }
}

/// A C function of the process's libraries by name, as the C function type `T`; `nil` when no
/// library has it. For GNU calls that Swift's Glibc module leaves out (no `_GNU_SOURCE`).
private func dynamicSymbol<T>(_ name: String) -> T? {
    guard let address = dlsym(nil, name) else { return nil }
    return unsafeBitCast(address, to: T.self)
}

/// Threads that move bytes between this process and the child's pipes.
private enum Drain {
    /// Reads `fd` to end-of-file into the shared state, then closes it.
    static func start(_ fd: Int32, isError: Bool, shared: ChildProcess.Shared) {
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    shared.state.withLock { state in
                        if isError {
                            state.error.append(contentsOf: buffer[0..<count])
                        } else {
                            state.output.append(contentsOf: buffer[0..<count])
                        }
                    }
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(fd)
            shared.state.withLock { $0.openReaders -= 1 }
        }
        thread.name = "child process output"
        thread.start()
    }

    /// Writes `bytes` to `fd`, then closes it. SIGPIPE is blocked on this thread, so a child that
    /// exits without reading makes the write fail with EPIPE instead of killing this process.
    static func feed(_ fd: Int32, _ bytes: [UInt8]) {
        let thread = Thread {
            var block = sigset_t()
            sigemptyset(&block)
            sigaddset(&block, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &block, nil)
            var offset = 0
            while offset < bytes.count {
                let count = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    offset += count
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(fd)
        }
        thread.name = "child process input"
        thread.start()
    }
}
