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
import KeystormSpawn
import Testing

@Suite("Child processes")
struct ChildProcessTests {
    @Test("exit codes, output and standard error together, in order")
    func exitCodeAndOutput() async throws {
        let result = try await ChildProcess.run("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"])
        #expect(result.termination == .exited(3))
        #expect(!result.succeeded)
        #expect(result.output == "out\nerr\n")
        let ok = try await ChildProcess.run("true", [])
        #expect(ok.succeeded)
    }

    @Test("a child killed by a signal reports the signal")
    func killedBySignal() async throws {
        let child = try ChildProcess(.init("/bin/sleep", ["60"]))
        #expect(child.isRunning)
        child.signal(SIGKILL)
        let termination = await child.wait(timeout: .seconds(60))
        #expect(termination == .signalled(SIGKILL))
        #expect(!child.isRunning)
        // The pid has been reaped: a second signal is not sent to whoever has the number now.
        child.signal(SIGKILL)
    }

    @Test("bytes on standard input reach the child, then end-of-file")
    func inputBytes() async throws {
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        let result = try await ChildProcess.run("/bin/sh", ["-c", "wc -c"], input: .bytes(payload))
        #expect(result.succeeded)
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "300000")
    }

    @Test("a child that exits without reading its input does not kill this process")
    func inputToAChildThatDoesNotRead() async throws {
        let payload = [UInt8](repeating: 65, count: 1_000_000)
        let result = try await ChildProcess.run("/bin/sh", ["-c", "exit 0"], input: .bytes(payload))
        #expect(result.succeeded)
    }

    @Test("a large output is drained while the child runs")
    func largeOutput() async throws {
        let result = try await ChildProcess.run("/bin/sh", ["-c", "head -c 5000000 /dev/zero"])
        #expect(result.succeeded)
        #expect(result.output.utf8.count == 5_000_000)
    }

    @Test("a held-open standard input keeps a reader waiting until it is terminated")
    func heldOpenInput() async throws {
        let child = try ChildProcess(.init("/bin/cat", input: .heldOpen))
        #expect(await child.wait(timeout: .milliseconds(300)) == nil)
        #expect(child.isRunning)
        let termination = await child.terminate(grace: .seconds(20))
        #expect(termination == .signalled(SIGTERM))
    }

    @Test("working directory, environment, and files for output and error")
    func directoryEnvironmentFiles() async throws {
        let directory = NSTemporaryDirectory() + "keystorm-spawn-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let child = try ChildProcess(
            .init(
                "/bin/sh",
                ["-c", "pwd; echo \"$KEYSTORM_SPAWN_TEST\"; echo oops >&2"],
                environment: ["KEYSTORM_SPAWN_TEST": "value", "PATH": "/usr/bin:/bin"],
                directory: directory,
                output: .file(directory + "/out"),
                error: .file(directory + "/err")
            )
        )
        #expect(await child.wait(timeout: .seconds(60)) == .exited(0))
        let realDirectory = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        let out = try String(contentsOfFile: directory + "/out", encoding: .utf8)
        #expect(out == "\(realDirectory)\nvalue\n" || out == "\(directory)\nvalue\n")
        #expect(try String(contentsOfFile: directory + "/err", encoding: .utf8) == "oops\n")
        #expect(child.output.isEmpty)
    }

    @Test("standard error collected apart from standard output")
    func separateError() async throws {
        let child = try ChildProcess(.init("/bin/sh", ["-c", "echo out; echo err >&2"], error: .collected))
        #expect(await child.wait(timeout: .seconds(60)) == .exited(0))
        #expect(child.output == "out\n")
        #expect(child.errorOutput == "err\n")
    }

    @Test("an executable that does not exist is a clear error")
    func missingExecutable() throws {
        #expect(throws: ChildProcessError.self) {
            _ = try ChildProcess(.init("/nonexistent/keystorm-spawn-test"))
        }
        do {
            _ = try ChildProcess(.init("keystorm-spawn-no-such-command"))
            Issue.record("a command missing from PATH was started")
        } catch {
            #expect("\(error)".contains("keystorm-spawn-no-such-command"))
        }
    }

    @Test("a child that outlives its time limit is killed and the call throws")
    func timeLimit() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: ChildProcessError.self) {
            _ = try await ChildProcess.run("/bin/sleep", ["60"], timeout: .milliseconds(200))
        }
        // Not a timing assertion: the 60-second sleep was cut short, not waited out.
        #expect(clock.now - start < .seconds(59))
    }

    /// The case that crashed processes under Foundation's `Process.run()`: many descriptors
    /// open, some without close-on-exec. None of them reaches the child.
    @Test("with many descriptors open, spawns work and the child inherits none of them")
    func manyDescriptors() async throws {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        // At most half the descriptor limit: the suites running beside this one need theirs.
        let count = min(2_000, Int(limit.rlim_cur) / 2)
        var opened: [Int32] = []
        defer {
            for fd in opened { close(fd) }
        }
        for index in 0..<count {
            // Alternately with and without close-on-exec.
            let fd = open("/dev/null", O_RDONLY | (index % 2 == 0 ? O_CLOEXEC : 0))
            guard fd >= 0 else { break }
            opened.append(fd)
        }
        #expect(opened.count >= min(count, 200))
        for _ in 0..<20 {
            let result = try await ChildProcess.run("/bin/ls", ["/proc/self/fd"])
            #expect(result.succeeded)
            let descriptors = result.output.split(separator: "\n").compactMap { Int($0) }
            // 0, 1, 2 and the directory ls reads.
            #expect(descriptors.count <= 4, "\(descriptors)")
        }
    }

    @Test("the blocking form, for callers on threads of their own")
    func blocking() throws {
        let result = try ChildProcess.runBlocking("/bin/sh", ["-c", "echo blocking; exit 7"])
        #expect(result.termination == .exited(7))
        #expect(result.output == "blocking\n")
    }
}
