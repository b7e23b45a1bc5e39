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
import KMIPModel
import KeystormSpawn
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension LiveServerTests {
    /// `keystorm serve` as one service group, run as a subprocess: graceful shutdown on SIGTERM
    /// during a storm, a failing service stopping the process, the first start and its message,
    /// and the one-line errors of bad files and flags.
    @Suite("keystorm serve: lifecycle, first start, errors")
    struct ServeLifecycleLiveTests {
        @Test(
            "SIGTERM during a storm: acknowledged operations are audited, the listener closes, exit 0 in the grace period"
        )
        func sigtermDuringStorm() async throws {
            let serve = try await ServeProcess.start(["--shutdown-grace-period", "10s"])
            defer { serve.cleanUp() }
            let client = try KMIPTLSClient(port: serve.port, caFile: serve.serverCA, identity: serve.testClient)
            let storm = StormRecord()
            let acknowledged = storm.acknowledged
            let failedBeforeSignal = storm.failedBeforeSignal
            let signalled = storm.signalled
            let kmipFailures = storm.kmipFailures

            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        while true {
                            do {
                                let uid = try await client.createKey()
                                acknowledged.withLock { $0.append("\(uid)") }
                            } catch let error as LiveTestFailure {
                                // The server answered with a failure: never, before or after the signal.
                                kmipFailures.withLock { $0.append("\(error)") }
                                if signalled.isSet { return }
                            } catch {
                                // Once the signal is sent a connection may be refused (the listener
                                // is closed) or closed before its request was read: not acknowledged,
                                // not audited. Before it, every connection is served.
                                if !signalled.isSet { failedBeforeSignal.withLock { $0.append("\(error)") } }
                                if signalled.isSet { return }
                            }
                        }
                    }
                }
                _ = try await retrying(timeout: .seconds(60), every: .milliseconds(50), "the storm under way") {
                    acknowledged.withLock { $0.count } >= 150 ? true : nil
                }
                signalled.set()
                let clock = ContinuousClock()
                let signalledAt = clock.now
                kill(serve.pid, SIGTERM)

                // New connections are refused after the signal (the listener is closed).
                _ = try await retrying(timeout: .seconds(10), every: .milliseconds(20), "the KMIP listener closed") {
                    LiveServer.accepts(port: serve.port) ? nil : true
                }
                let status = try await serve.waitForExit(timeout: .seconds(30))
                let took = clock.now - signalledAt
                #expect(status == 0, "exit status after SIGTERM; log:\n\(serve.log)")
                #expect(took < .seconds(10) + .seconds(5), "shutdown took \(took)")
                try await group.waitForAll()
            }

            #expect(failedBeforeSignal.withLock { $0 }.isEmpty, "failures before the signal")
            #expect(kmipFailures.withLock { $0 }.isEmpty, "operations answered with a failure")
            #expect(!LiveServer.accepts(port: serve.port), "a connection was accepted after the exit")
            // Every acknowledged operation has its complete line in the audit log.
            let audit = try String(contentsOfFile: serve.dataDirectory + "/audit.log", encoding: .utf8)
            #expect(audit.hasSuffix("\n"))
            let auditedCreates = Set(
                audit.split(separator: "\n").compactMap { line -> String? in
                    guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                        object["operation"] as? String == "Create", object["result"] as? String == "success"
                    else { return nil }
                    return object["uid"] as? String
                }
            )
            let acked = acknowledged.withLock { $0 }
            #expect(acked.count >= 150)
            let missing = acked.filter { !auditedCreates.contains($0) }
            #expect(missing.isEmpty, "acknowledged but not audited: \(missing)")
            // The log: JSON lines only, and the shutdown steps.
            let log = serve.log
            ServeProcess.expectJSONLines(log)
            #expect(log.contains("draining open connections"), "log:\n\(log)")
            #expect(log.contains("audit log flushed"), "log:\n\(log)")
            #expect(log.contains("\"message\":\"stopped\""), "log:\n\(log)")
        }

        @Test(
            "A service that fails (the admin listener's port is taken) stops the process: exit 1, the service and error logged"
        )
        func failingServiceStopsTheProcess() async throws {
            let root = ServeProcess.temporaryRoot()
            defer { try? FileManager.default.removeItem(atPath: root) }
            let taken = try HeldPort()
            defer { taken.close() }
            let outcome = try await ServeProcess.run([
                "serve", "--data-dir", root + "/data", "--listen", "127.0.0.1:0",
                "--admin-listen", "127.0.0.1:\(taken.port)",
            ])
            #expect(outcome.status == 1, "exit status; output:\n\(outcome.output)")
            #expect(
                outcome.output.contains(
                    "keystorm serve stopped: admin API: cannot listen on 127.0.0.1:\(taken.port): address already in use"
                ),
                "output:\n\(outcome.output)"
            )
            #expect(outcome.output.contains("\"service\":\"admin API\""), "output:\n\(outcome.output)")
            // The start-up message comes only once every listener is bound.
            #expect(!outcome.output.contains("serving KMIP on"), "output:\n\(outcome.output)")
            #expect(!outcome.output.contains("bind(descriptor"), "output:\n\(outcome.output)")
            ServeProcess.expectJSONLines(outcome.output)

            // State after: the next start finishes the first start, with the test client's line;
            // and every later start prints that line too.
            for start in 1...2 {
                let serve = try await ServeProcess.start(dataDirectory: root + "/data", extra: [])
                defer { serve.cleanUp(removing: false) }
                let log = serve.log
                #expect(log.contains("openssl s_client -connect 127.0.0.1:\(serve.port)"), "start \(start):\n\(log)")
                #expect(log.contains("(created now)") == (start == 1), "start \(start):\n\(log)")
                #expect(FileManager.default.fileExists(atPath: serve.testClient.certificate))
                let client = try KMIPTLSClient(port: serve.port, caFile: serve.serverCA, identity: serve.testClient)
                _ = try await client.createKey()
                kill(serve.pid, SIGTERM)
                #expect(try await serve.waitForExit(timeout: .seconds(30)) == 0)
            }
        }

        @Test("A KMIP port in use: one line naming the listener and the address, exit 1; the next start completes")
        func kmipPortInUse() async throws {
            let root = ServeProcess.temporaryRoot()
            defer { try? FileManager.default.removeItem(atPath: root) }
            let taken = try HeldPort()
            let outcome = try await ServeProcess.run([
                "serve", "--data-dir", root + "/data", "--listen", "127.0.0.1:\(taken.port)", "--admin-listen", "off",
            ])
            taken.close()
            #expect(outcome.status == 1, "output:\n\(outcome.output)")
            #expect(
                outcome.output.contains("KMIP: cannot listen on 127.0.0.1:\(taken.port): address already in use"),
                "output:\n\(outcome.output)"
            )
            ServeProcess.expectJSONLines(outcome.output)
            #expect(FileManager.default.fileExists(atPath: root + "/data/first-start.incomplete"))

            let serve = try await ServeProcess.start(
                dataDirectory: root + "/data",
                extra: ["--log-format", "text", "--log-level", "notice"]
            )
            defer { serve.cleanUp(removing: false) }
            #expect(serve.log.contains("openssl s_client"), "log:\n\(serve.log)")
            #expect(!FileManager.default.fileExists(atPath: root + "/data/first-start.incomplete"))
            // --log-format text: plain lines, no JSON; --log-level notice: the start-up message,
            // none of the info records (such as the loaded client rules).
            #expect(!serve.log.contains("{\"time\""), "log:\n\(serve.log)")
            #expect(serve.log.contains(" notice Keystorm is serving KMIP on 127.0.0.1:"), "log:\n\(serve.log)")
            #expect(!serve.log.contains(" info "), "log:\n\(serve.log)")
            kill(serve.pid, SIGTERM)
            #expect(try await serve.waitForExit(timeout: .seconds(30)) == 0)
        }

        @Test("Prewarm requests: polled only with the admin API off; left while stopped, taken at the next start")
        func prewarmRequestFiles() async throws {
            let root = ServeProcess.temporaryRoot()
            defer { try? FileManager.default.removeItem(atPath: root) }
            let data = root + "/data"
            let serve = try await ServeProcess.start(dataDirectory: data, extra: ["--admin-listen", "off"])
            defer { serve.cleanUp(removing: false) }
            let client = try KMIPTLSClient(port: serve.port, caFile: serve.serverCA, identity: serve.testClient)
            for _ in 0..<4 { _ = try await client.createKey() }

            // Admin API off: the command leaves a file, the running server polls for it.
            let asked = try await ServeProcess.run(["keys", "prewarm", "--data-dir", data, "--recent", "3"])
            #expect(asked.status == 0 && asked.output.contains("asked the server to prewarm"), "\(asked.output)")
            _ = try await retrying(timeout: .seconds(30), every: .milliseconds(100), "the server taking the file") {
                serve.log.contains("prewarmed tenant default: 3 of 3 recent keys cached, 0 failed") ? true : nil
            }
            kill(serve.pid, SIGTERM)
            #expect(try await serve.waitForExit(timeout: .seconds(30)) == 0)

            // No server: the file waits; the next start (admin API on) takes it once.
            let left = try await ServeProcess.run(["keys", "prewarm", "--data-dir", data, "--recent", "2"])
            #expect(left.status == 0, "\(left.output)")
            let next = try await ServeProcess.start(dataDirectory: data, extra: [])
            defer { next.cleanUp(removing: false) }
            _ = try await retrying(timeout: .seconds(30), every: .milliseconds(100), "the next start taking the file") {
                next.log.contains("prewarmed tenant default: 2 of 2 recent keys cached, 0 failed") ? true : nil
            }
            let pending = (try? FileManager.default.contentsOfDirectory(atPath: data + "/prewarm")) ?? []
            #expect(pending.isEmpty, "request files left: \(pending)")
            kill(next.pid, SIGTERM)
            #expect(try await next.waitForExit(timeout: .seconds(30)) == 0)
        }

        @Test("Bad TLS and CA files and flags: one line naming the file or flag and the cause")
        func badFilesAndFlags() async throws {
            let root = ServeProcess.temporaryRoot()
            defer { try? FileManager.default.removeItem(atPath: root) }
            let data = root + "/data"
            let certificate = root + "/server.pem"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: certificate))

            let cases: [(arguments: [String], status: Int32, message: String)] = [
                (["--tls-cert", certificate], 1, "--tls-cert \(certificate) needs --tls-key"),
                (["--tls-key", certificate], 1, "--tls-key \(certificate) needs --tls-cert"),
                (
                    ["--tls-cert", certificate, "--tls-key", root + "/missing.key"], 1,
                    "--tls-key \(root)/missing.key: cannot be read: no such file or directory"
                ),
                (
                    ["--client-ca", root + "/missing-ca.pem"], 1,
                    "--client-ca \(root)/missing-ca.pem: cannot be read: no such file or directory"
                ),
                (["--port", "5697"], 64, "use --listen HOST:PORT"),
            ]
            for item in cases {
                let outcome = try await ServeProcess.run(
                    ["serve", "--data-dir", data, "--listen", "127.0.0.1:0", "--admin-listen", "off"] + item.arguments
                )
                let what = item.arguments.joined(separator: " ")
                #expect(outcome.status == item.status, "\(what): \(outcome.output)")
                #expect(outcome.output.contains(item.message), "\(what): \(outcome.output)")
                #expect(!outcome.output.contains("--store"), "\(what): \(outcome.output)")
                #expect(!outcome.output.contains("NSCocoaErrorDomain"), "\(what): \(outcome.output)")
                if item.status == 1 {
                    let lines = outcome.output.split(separator: "\n")
                    #expect(lines.count == 1, "\(what): one line, not \(lines.count):\n\(outcome.output)")
                }
                // Nothing was made in the data directory for a start refused on its settings.
                #expect(!FileManager.default.fileExists(atPath: data), "\(what)")
            }

            // Both files given but unusable: one line, no OpenSSL error stack.
            let outcome = try await ServeProcess.run(
                ["serve", "--data-dir", data, "--listen", "127.0.0.1:0", "--admin-listen", "off"]
                    + ["--tls-cert", certificate, "--tls-key", certificate]
            )
            #expect(outcome.status == 1, "\(outcome.output)")
            #expect(outcome.output.contains("TLS: the certificate \(certificate)"), "\(outcome.output)")
            #expect(!outcome.output.contains("error:0"), "an OpenSSL error stack: \(outcome.output)")
            ServeProcess.expectJSONLines(outcome.output)
        }
    }
}

/// What the storm's clients saw, shared between their tasks.
final class StormRecord: Sendable {
    let acknowledged = Box<[String]>([])
    let failedBeforeSignal = Box<[String]>([])
    let kmipFailures = Box<[String]>([])
    let signalled = Flag()

    final class Box<Value: Sendable>: Sendable {
        private let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
        func withLock<R>(_ body: (inout Value) -> R) -> R { self.value.withLock { body(&$0) } }
    }

    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        var isSet: Bool { self.value.load(ordering: .relaxed) }
        func set() { self.value.store(true, ordering: .relaxed) }
    }
}

/// A `keystorm serve` started by these tests, with its output in a file.
final class ServeProcess: Sendable {
    let dataDirectory: String
    let logPath: String
    let port: Int
    private let process: ChildProcess
    private let root: String?

    var pid: Int32 { self.process.pid }
    var serverCA: String { self.dataDirectory + "/tls/server-ca.pem" }
    var testClient: KMIPTLSClient.Identity {
        .init(
            certificate: self.dataDirectory + "/clients/default/keystorm-test-client.pem",
            key: self.dataDirectory + "/clients/default/keystorm-test-client.key"
        )
    }
    var log: String { (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? "" }

    private init(process: ChildProcess, dataDirectory: String, logPath: String, port: Int, root: String?) {
        self.process = process
        self.dataDirectory = dataDirectory
        self.logPath = logPath
        self.port = port
        self.root = root
    }

    static func temporaryRoot() -> String {
        NSTemporaryDirectory() + "keystorm-serve-" + UUID().uuidString.prefix(8).lowercased()
    }

    /// A server on a fresh data directory (removed by ``cleanUp(removing:)``).
    static func start(_ extra: [String]) async throws -> ServeProcess {
        let root = Self.temporaryRoot()
        return try await Self.start(dataDirectory: root + "/data", extra: extra, root: root)
    }

    /// A server on `dataDirectory` (ports chosen by the system); returns once the start-up
    /// message names the KMIP port.
    static func start(dataDirectory: String, extra: [String], root: String? = nil) async throws -> ServeProcess {
        let logDirectory = root ?? (dataDirectory as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        let logPath = logDirectory + "/serve-\(UUID().uuidString.prefix(8)).log"
        let process = try ChildProcess(
            .init(
                try LiveServer.locateBinary(),
                [
                    "serve", "--data-dir", dataDirectory, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
                    "--refresh-interval", "1",
                ] + extra,
                environment: LiveServer.environment(),
                output: .file(logPath),
                error: .withOutput,
                diesWithParent: true
            )
        )
        let port: Int
        do {
            port = try await retrying(timeout: .seconds(120), every: .milliseconds(100), "the start-up message") {
                () -> Int? in
                let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                if let termination = process.termination {
                    throw LiveTestFailure("keystorm serve exited with \(termination):\n\(text)")
                }
                // The test client line is the last of the start-up message.
                guard text.contains("openssl s_client") || text.contains("Server certificate") else { return nil }
                return LiveServer.bannerPort(text)
            }
        } catch {
            process.signal(SIGKILL)
            throw error
        }
        return ServeProcess(process: process, dataDirectory: dataDirectory, logPath: logPath, port: port, root: root)
    }

    /// Waits (bounded) for the process to exit and returns its status.
    func waitForExit(timeout: Duration) async throws -> Int32 {
        guard let termination = await self.process.wait(timeout: timeout) else {
            throw LiveTestFailure("keystorm serve still running \(timeout) after the signal:\n\(self.log)")
        }
        return termination.status
    }

    /// Kills a process still running and removes the temporary directory.
    func cleanUp(removing: Bool = true) {
        if self.process.isRunning {
            self.process.signal(SIGKILL)
            self.process.waitBlocking(timeout: .seconds(60))
        }
        if removing, let root = self.root { try? FileManager.default.removeItem(atPath: root) }
    }

    /// `keystorm <arguments>` to its exit.
    static func run(_ arguments: [String]) async throws -> Subprocess.Outcome {
        try await Subprocess.run(try LiveServer.locateBinary(), arguments, environment: LiveServer.environment())
    }

    /// Every non-empty line of `output` is a JSON object with time, level and message.
    static func expectJSONLines(_ output: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for line in output.split(separator: "\n") where !line.isEmpty {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["message"] is String, "not a JSON log line: \(line)", sourceLocation: sourceLocation)
            #expect(object?["level"] is String, "no level: \(line)", sourceLocation: sourceLocation)
            #expect(object?["time"] is String, "no time: \(line)", sourceLocation: sourceLocation)
        }
    }
}

/// A TCP port on 127.0.0.1 held by a listening socket (without SO_REUSEPORT), so that binding
/// it fails with "address already in use".
final class HeldPort: Sendable {
    private let fd = Mutex<Int32>(-1)
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LiveTestFailure("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 1) == 0 else {
            Glibc.close(fd)
            throw LiveTestFailure("bind/listen: \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd.withLock { $0 = fd }
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Frees the port (idempotent).
    func close() {
        self.fd.withLock { fd in
            if fd >= 0 { Glibc.close(fd) }
            fd = -1
        }
    }

    deinit { self.close() }
}
