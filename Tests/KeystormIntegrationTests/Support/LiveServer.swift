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

import CKeystorm
import Foundation
import KeystormSpawn
import Synchronization

/// The built `keystorm` binary serving in a temporary data directory:
/// `keystorm serve --data-dir <temp>/data --listen 127.0.0.1:0 --refresh-interval 1`.
///
/// The server picks a free port itself (port 0) and prints it in its banner; `start` waits, with a
/// bound, for that banner and for the port to accept a TCP connection. Server output goes to a log
/// file beside the data directory (so a full pipe can never stall the server), and is quoted
/// when something goes wrong. Use ``with(_:)``, which always stops the process, even when the test
/// throws; `deinit` kills a process that is somehow still running.
final class LiveServer: Sendable {
    /// The temporary directory that holds `data/` and the logs.
    let root: String
    /// The server's data directory.
    let dataDirectory: String
    let binary: String
    /// Arguments added to every `keystorm serve` of this server.
    let extraArguments: [String]
    /// The umask `keystorm serve` starts with (`nil`: the test process's own).
    let umask: String?

    private struct State {
        var process: Running?
        var port = 0
        var starts = 0
    }

    private let state = Mutex(State())

    /// The server's current run: its process and its log file.
    private struct Running: Sendable {
        let process: ChildProcess
        let logPath: String
    }

    // MARK: Paths in the data directory (see DataDirectory in the keystorm target)

    var serverCA: String { self.dataDirectory + "/tls/server-ca.pem" }
    var clientCA: String { self.dataDirectory + "/tls/client-ca.pem" }
    var testClientCertificate: String { self.dataDirectory + "/clients/default/keystorm-test-client.pem" }
    var testClientKey: String { self.dataDirectory + "/clients/default/keystorm-test-client.key" }
    var testClient: KMIPTLSClient.Identity { .init(certificate: self.testClientCertificate, key: self.testClientKey) }

    /// The port the running server listens on.
    var port: Int { self.state.withLock { $0.port } }

    /// The running server's process id, or `nil`.
    var pid: Int32? {
        self.state.withLock { state in
            state.process.flatMap { $0.process.isRunning ? $0.process.pid : nil }
        }
    }

    private init(extraArguments: [String] = [], umask: String? = nil) throws {
        self.extraArguments = extraArguments
        self.umask = umask
        self.binary = try Self.locateBinary()
        self.root = NSTemporaryDirectory() + "keystorm-live-" + UUID().uuidString.prefix(8).lowercased()
        self.dataDirectory = self.root + "/data"
        try FileManager.default.createDirectory(atPath: self.root, withIntermediateDirectories: true)
    }

    /// Starts a server on a fresh data directory, with `arguments` added to `keystorm serve`.
    ///
    /// - Parameters:
    ///   - arguments: Added to `keystorm serve`.
    ///   - umask: The umask the server starts with, e.g. `000`.
    ///   - beforeLaunch: Runs with the (not yet created) data directory's path before the first
    ///     start, e.g. to mount a small file system there.
    static func start(
        arguments: [String] = [],
        umask: String? = nil,
        beforeLaunch: (_ dataDirectory: String) async throws -> Void = { _ in }
    ) async throws -> LiveServer {
        let server = try LiveServer(extraArguments: arguments, umask: umask)
        do {
            try await beforeLaunch(server.dataDirectory)
            try await server.launch()
        } catch {
            await server.stop()
            throw error
        }
        return server
    }

    /// Runs `body` with a started server and always stops the server afterwards.
    static func with<T>(
        arguments: [String] = [],
        umask: String? = nil,
        _ body: (LiveServer) async throws -> T
    ) async throws -> T {
        let server = try await LiveServer.start(arguments: arguments, umask: umask)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// A client for this server with the default tenant's test certificate.
    func client(
        _ identity: KMIPTLSClient.Identity? = nil,
        tlsVersion: KMIPTLSClient.TLSVersion = .any
    ) throws -> KMIPTLSClient {
        try KMIPTLSClient(
            port: self.port,
            caFile: self.serverCA,
            identity: identity ?? self.testClient,
            tlsVersion: tlsVersion
        )
    }

    // MARK: Process control

    /// Starts `keystorm serve` and waits until it accepts connections.
    func launch() async throws {
        let starts = self.state.withLock { state -> Int in
            state.starts += 1
            return state.starts
        }
        let logPath = self.root + "/serve-\(starts).log"
        var command =
            [
                self.binary, "serve", "--data-dir", self.dataDirectory, "--listen", "127.0.0.1:0",
                "--refresh-interval", "1", "--admin-listen", "127.0.0.1:0",
            ] + self.extraArguments
        if let umask = self.umask {
            // The shell sets the umask and execs, so the server keeps this process id.
            command = ["/bin/sh", "-c", "umask \(umask) && exec \"$@\"", "sh"] + command
        }
        // The server gets SIGKILL when this process dies (diesWithParent), so a test process
        // that crashes or is killed leaves no server behind.
        let process = try ChildProcess(
            .init(
                command[0],
                Array(command.dropFirst()),
                environment: Self.environment(),
                output: .file(logPath),
                error: .withOutput,
                diesWithParent: true
            )
        )
        let running = Running(process: process, logPath: logPath)
        self.state.withLock { $0.process = running }

        // The banner names the bound port: "Keystorm is serving KMIP on 127.0.0.1:PORT (...".
        // A server that exits instead fails the start at once (retrying would retry a throw).
        let started = try await retrying(
            timeout: .seconds(120),
            every: .milliseconds(100),
            "keystorm serve printing its banner"
        ) { () -> Result<Int, LiveTestFailure>? in
            if let termination = process.termination {
                return .failure(LiveTestFailure("keystorm serve exited with \(termination):\n\(self.log(running))"))
            }
            return Self.bannerPort(self.log(running)).map { .success($0) }
        }
        let port = try started.get()
        self.state.withLock { $0.port = port }
        _ = try await retrying(timeout: .seconds(60), every: .milliseconds(100), "port \(port) accepting") {
            () -> Bool? in
            Self.accepts(port: port) ? true : nil
        }
    }

    /// `kill -9` of the server, then waits (bounded) until it is gone.
    func kill9() async throws {
        guard let running = self.state.withLock({ $0.process }) else { return }
        running.process.signal(SIGKILL)
        guard await running.process.wait(timeout: .seconds(60)) != nil else {
            throw LiveTestFailure("keystorm serve (pid \(running.process.pid)) survived SIGKILL for 60 s")
        }
        self.state.withLock { $0.process = nil }
    }

    /// Starts the server again on the same data directory (after ``kill9()`` or ``stop(removing:)``).
    func restart() async throws {
        if self.pid != nil { try await self.kill9() }
        try await self.launch()
    }

    /// Stops the server (SIGTERM, then SIGKILL when it has not exited within 20 s) and removes
    /// the temporary directory unless `KEYSTORM_KEEP_LIVE_DATA` is set.
    func stop(removing: Bool = true) async {
        if let running = self.state.withLock({ $0.process }) {
            await running.process.terminate(grace: .seconds(20))
            self.state.withLock { $0.process = nil }
        }
        if removing && ProcessInfo.processInfo.environment["KEYSTORM_KEEP_LIVE_DATA"] == nil {
            try? FileManager.default.removeItem(atPath: self.root)
        }
    }

    deinit {
        self.state.withLock { $0.process }?.process.signal(SIGKILL)
    }

    /// The server's output so far (the current run).
    var serverLog: String {
        guard let running = self.state.withLock({ $0.process }) else { return "" }
        return self.log(running)
    }

    private func log(_ running: Running) -> String {
        (try? String(contentsOfFile: running.logPath, encoding: .utf8)) ?? ""
    }

    // MARK: The CLI

    /// Runs `keystorm <arguments> --data-dir <data>` and returns its output; throws when it fails.
    @discardableResult
    func cli(_ arguments: [String]) async throws -> String {
        let outcome = try await Subprocess.run(
            self.binary,
            arguments + ["--data-dir", self.dataDirectory],
            environment: Self.environment()
        )
        guard outcome.succeeded else {
            throw LiveTestFailure(
                "keystorm \(arguments.joined(separator: " ")) exited with \(outcome.status):\n\(outcome.output)"
            )
        }
        return outcome.output
    }

    /// `keystorm tenants create <id>`.
    func createTenant(_ id: String) async throws {
        try await self.cli(["tenants", "create", id])
    }

    /// `keystorm clients issue --tenant <tenant> --name <name>`: the rule id and the files.
    func issueClient(tenant: String, name: String) async throws -> (rule: String, identity: KMIPTLSClient.Identity) {
        let output = try await self.cli(["clients", "issue", "--tenant", tenant, "--name", name])
        func field(after prefix: String) -> String? {
            for line in output.split(separator: "\n") {
                if let range = line.range(of: prefix) {
                    return String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
        guard let rule = field(after: ": rule "), let certificate = field(after: "certificate: "),
            let key = field(after: "private key: ")
        else {
            throw LiveTestFailure("unexpected output of keystorm clients issue:\n\(output)")
        }
        return (rule, .init(certificate: certificate, key: key))
    }

    /// `keystorm clients remove <rule>`.
    func removeClient(rule: String) async throws {
        try await self.cli(["clients", "remove", rule])
    }

    // MARK: Helpers

    /// The binary: `KEYSTORM_BINARY`, else `keystorm` beside the test bundle (.build*/debug).
    static func locateBinary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["KEYSTORM_BINARY"], !path.isEmpty { return path }
        var candidates: [String] = []
        for executable in [
            Bundle.main.executablePath, CommandLine.arguments.first,
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
        ] {
            guard let executable, executable.hasPrefix("/") else { continue }
            var url = URL(fileURLWithPath: executable).deletingLastPathComponent()
            // Inside a bundle directory (Darwin-style .xctest/Contents/MacOS), walk up to debug/.
            while url.path.contains(".xctest") { url.deleteLastPathComponent() }
            candidates.append(url.appendingPathComponent("keystorm").path)
        }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        throw LiveTestFailure(
            "the keystorm binary is not beside the tests (looked at \(candidates)); build it or set KEYSTORM_BINARY"
        )
    }

    /// The environment without KEYSTORM_* settings of the caller, so only the flags count.
    static func environment() -> [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KEYSTORM_") }
    }

    /// The admin listener's port, once the server printed it (bounded wait).
    func adminPort() async throws -> Int {
        try await retrying(timeout: .seconds(60), every: .milliseconds(100), "keystorm serve printing its admin address") {
            () -> Int? in
            let log = self.serverLog
            guard let range = log.range(of: "/readyz on http://127.0.0.1:") else { return nil }
            return Int(log[range.upperBound...].prefix { $0.isNumber })
        }
    }

    static func bannerPort(_ log: String) -> Int? {
        guard let range = log.range(of: "serving KMIP on 127.0.0.1:") else { return nil }
        let digits = log[range.upperBound...].prefix { $0.isNumber }
        return Int(digits)
    }

    /// Whether a TCP connection to 127.0.0.1:`port` succeeds.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }
}
