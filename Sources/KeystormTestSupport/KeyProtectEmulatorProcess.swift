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

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The built `KeyProtectEmulator` binary (an emulator of IBM Key Protect's REST API and IAM
/// token endpoint, see `Sources/KeyProtectEmulator`) running as a child process in a temporary
/// directory, for tests of the Key Protect client.
///
/// ```swift
/// try await KeyProtectEmulatorProcess.with(.init(apiKeys: ["test-key"], tokenTTL: 3)) { emulator in
///     // point the client at emulator.baseURL with instance emulator.instanceID
///     try await emulator.setFaults(.init(latencyMs: 30, rateLimit: 100))
///     let stats = try await emulator.stats()
///     try await emulator.restart()  // same state file, same port
/// }
/// ```
///
/// The emulator listens on a free port of 127.0.0.1 and prints its URL; ``start(_:)`` waits, with
/// a bound, for that line. Its state (keys, versions, states) lives in ``stateFile``, which
/// ``restart()`` keeps. Its output goes to a log file in the temporary directory (never a pipe
/// that could fill), quoted when something goes wrong. ``stop()`` ends it with SIGTERM and removes
/// the directory (kept when `KEYSTORM_KEEP_LIVE_DATA` is set); `deinit` kills a process still running.
///
/// The binary is `KEYPROTECT_EMULATOR_BINARY`, else `KeyProtectEmulator` beside the test bundle:
/// a test target that uses this class should depend on the `KeyProtectEmulator` target so that
/// SwiftPM builds it first.
public final class KeyProtectEmulatorProcess: Sendable {
    /// How to start the emulator; each field maps to a command-line flag.
    public struct Options: Sendable {
        /// `--instance-id`: the `bluemix-instance` the emulator accepts.
        public var instanceID: String
        /// `--api-key` (repeatable): the accepted IAM API keys; empty accepts any non-empty key.
        public var apiKeys: [String]
        /// `--token-ttl`: IAM token lifetime in seconds (emulator default 3600).
        public var tokenTTL: Int?
        /// The faults to start with (`--latency-ms`, `--jitter-ms`, `--rate-limit`,
        /// `--retry-after`, `--error-rate`, `--outage`); change them later with ``setFaults(_:)``.
        public var faults: Faults
        /// `--min-rotation-interval`: seconds between rotations of one key (none by default).
        public var minRotationInterval: Int?
        /// `--tls-cert`/`--tls-key` (PEM files): serve HTTPS. The admin calls then go to a second,
        /// plain-HTTP listener (``adminURL``).
        public var tls: TLS?
        /// Further flags, passed as given.
        public var extraArguments: [String]

        public struct TLS: Sendable {
            public var certificate: String
            public var key: String
            public init(certificate: String, key: String) {
                self.certificate = certificate
                self.key = key
            }
        }

        public init(
            instanceID: String = KeyProtectEmulatorProcess.defaultInstanceID,
            apiKeys: [String] = [],
            tokenTTL: Int? = nil,
            faults: Faults = Faults(),
            minRotationInterval: Int? = nil,
            tls: TLS? = nil,
            extraArguments: [String] = []
        ) {
            self.instanceID = instanceID
            self.apiKeys = apiKeys
            self.tokenTTL = tokenTTL
            self.faults = faults
            self.minRotationInterval = minRotationInterval
            self.tls = tls
            self.extraArguments = extraArguments
        }
    }

    /// The injected faults, as `GET/PUT /admin/faults` carry them. ``setFaults(_:)`` sends every
    /// field, so a value replaces all of the emulator's faults.
    public struct Faults: Codable, Sendable, Equatable {
        /// Fixed delay added to every `/api/v2` call, in milliseconds.
        public var latencyMs: Int
        /// Uniformly random extra delay, 0...jitterMs milliseconds.
        public var jitterMs: Int
        /// wrap/unwrap/rewrap calls per second (token bucket, burst of the same size); `nil`: no limit.
        public var rateLimit: Int?
        /// The `Retry-After` seconds of a 429.
        public var retryAfterSeconds: Int
        /// The fraction (0...1) of `/api/v2` calls answered 503.
        public var errorRate: Double
        /// Every `/api/v2` and IAM call answered 503.
        public var outage: Bool

        public init(
            latencyMs: Int = 0,
            jitterMs: Int = 0,
            rateLimit: Int? = nil,
            retryAfterSeconds: Int = 1,
            errorRate: Double = 0,
            outage: Bool = false
        ) {
            self.latencyMs = latencyMs
            self.jitterMs = jitterMs
            self.rateLimit = rateLimit
            self.retryAfterSeconds = retryAfterSeconds
            self.errorRate = errorRate
            self.outage = outage
        }

        private enum CodingKeys: String, CodingKey {
            case latencyMs, jitterMs, rateLimit, retryAfterSeconds, errorRate, outage
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.latencyMs = try container.decodeIfPresent(Int.self, forKey: .latencyMs) ?? 0
            self.jitterMs = try container.decodeIfPresent(Int.self, forKey: .jitterMs) ?? 0
            self.rateLimit = try container.decodeIfPresent(Int.self, forKey: .rateLimit)
            self.retryAfterSeconds = try container.decodeIfPresent(Int.self, forKey: .retryAfterSeconds) ?? 1
            self.errorRate = try container.decodeIfPresent(Double.self, forKey: .errorRate) ?? 0
            self.outage = try container.decodeIfPresent(Bool.self, forKey: .outage) ?? false
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.latencyMs, forKey: .latencyMs)
            try container.encode(self.jitterMs, forKey: .jitterMs)
            // An explicit null removes the limit.
            try container.encode(self.rateLimit, forKey: .rateLimit)
            try container.encode(self.retryAfterSeconds, forKey: .retryAfterSeconds)
            try container.encode(self.errorRate, forKey: .errorRate)
            try container.encode(self.outage, forKey: .outage)
        }

        var arguments: [String] {
            var arguments: [String] = []
            if self.latencyMs != 0 { arguments += ["--latency-ms", String(self.latencyMs)] }
            if self.jitterMs != 0 { arguments += ["--jitter-ms", String(self.jitterMs)] }
            if let rateLimit = self.rateLimit { arguments += ["--rate-limit", String(rateLimit)] }
            if self.retryAfterSeconds != 1 { arguments += ["--retry-after", String(self.retryAfterSeconds)] }
            if self.errorRate != 0 { arguments += ["--error-rate", String(self.errorRate)] }
            if self.outage { arguments.append("--outage") }
            return arguments
        }
    }

    /// The counters of `GET /admin/stats` since the start or the last ``resetStats()``.
    public struct Stats: Decodable, Sendable {
        /// Calls received per kind: token, create, get, list, versions, wrap, unwrap, rewrap,
        /// rotate, disable, enable, delete (faulted and refused calls included).
        public var calls: [String: Int]
        /// Responses with status 429.
        public var status429: Int
        /// Responses with a 5xx status.
        public var status5xx: Int
        /// The most IAM and `/api/v2` requests in flight at once.
        public var inFlightMax: Int

        /// The count of `kind` calls (0 when none).
        public func calls(_ kind: String) -> Int { self.calls[kind] ?? 0 }
    }

    /// The instance id the launcher passes unless told otherwise.
    public static let defaultInstanceID = "3b1f7c2e-9d4a-4f6b-8e21-5c0d7a9e4f10"

    /// The temporary directory holding the state file and the logs.
    public let root: String
    /// The emulator's state file (kept across ``restart()``).
    public let stateFile: String
    /// The `bluemix-instance` the emulator accepts.
    public let instanceID: String
    public let options: Options
    /// The emulator binary.
    public let binary: String

    private struct State {
        var process: Running?
        var baseURL = ""
        var adminURL = ""
        var starts = 0
    }

    private let state = Mutex(State())

    /// The emulator's current run: its process and its log file.
    private struct Running: Sendable {
        let process: ChildProcess
        let logPath: String
    }

    /// The API base, `http://127.0.0.1:PORT` (`https://` with TLS), without a trailing slash:
    /// the IAM endpoint is `baseURL + "/identity/token"`, the keys `baseURL + "/api/v2/keys"`.
    public var baseURL: String { self.state.withLock { $0.baseURL } }

    /// Where the admin endpoints are: ``baseURL`` over plain HTTP, a second listener with TLS.
    public var adminURL: String { self.state.withLock { $0.adminURL } }

    /// The port of ``baseURL``.
    public var port: Int { URLComponents(string: self.baseURL)?.port ?? 0 }

    /// The running emulator's process id, or `nil`.
    public var pid: Int32? {
        self.state.withLock { state in
            state.process.flatMap { $0.process.isRunning ? $0.process.pid : nil }
        }
    }

    /// The emulator's output in its current run.
    public var log: String {
        guard let running = self.state.withLock({ $0.process }) else { return "" }
        return Self.read(running.logPath)
    }

    private init(options: Options) throws {
        self.binary = try Self.locateBinary()
        self.options = options
        self.instanceID = options.instanceID
        self.root = NSTemporaryDirectory() + "keystorm-kpemu-" + UUID().uuidString.prefix(8).lowercased()
        self.stateFile = self.root + "/state.json"
        try FileManager.default.createDirectory(atPath: self.root, withIntermediateDirectories: true)
    }

    /// Starts an emulator with an empty state file.
    public static func start(_ options: Options = Options()) async throws -> KeyProtectEmulatorProcess {
        let emulator = try KeyProtectEmulatorProcess(options: options)
        do {
            try await emulator.launch(port: 0, adminPort: 0)
        } catch {
            await emulator.stop()
            throw error
        }
        return emulator
    }

    /// Runs `body` with a started emulator and always stops it afterwards.
    public static func with<T>(
        _ options: Options = Options(),
        _ body: (KeyProtectEmulatorProcess) async throws -> T
    ) async throws -> T {
        let emulator = try await Self.start(options)
        do {
            let result = try await body(emulator)
            await emulator.stop()
            return result
        } catch {
            await emulator.stop()
            throw error
        }
    }

    // MARK: Admin and IAM calls

    /// `PUT /admin/faults` with every field of `faults`; returns the faults now in force.
    @discardableResult
    public func setFaults(_ faults: Faults) async throws -> Faults {
        let response = try await PlainHTTPClient.request(
            "PUT",
            self.adminURL + "/admin/faults",
            headers: ["content-type": "application/json"],
            body: try JSONEncoder().encode(faults)
        )
        return try Self.decode(Faults.self, response, "PUT /admin/faults")
    }

    /// `GET /admin/faults`.
    public func faults() async throws -> Faults {
        let response = try await PlainHTTPClient.request("GET", self.adminURL + "/admin/faults")
        return try Self.decode(Faults.self, response, "GET /admin/faults")
    }

    /// `GET /admin/stats`.
    public func stats() async throws -> Stats {
        let response = try await PlainHTTPClient.request("GET", self.adminURL + "/admin/stats")
        return try Self.decode(Stats.self, response, "GET /admin/stats")
    }

    /// `POST /admin/stats/reset`: zeroes the counters.
    public func resetStats() async throws {
        let response = try await PlainHTTPClient.request("POST", self.adminURL + "/admin/stats/reset")
        guard (200..<300).contains(response.status) else {
            throw PlainHTTPClient.Failure("POST /admin/stats/reset: \(response.status) \(response.text)")
        }
    }

    /// An IAM access token for `apiKey` (`POST /identity/token`), over plain HTTP only.
    public func token(apiKey: String) async throws -> String {
        let form =
            "grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey="
            + (apiKey.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? apiKey)
        let response = try await PlainHTTPClient.request(
            "POST",
            self.baseURL + "/identity/token",
            headers: ["content-type": "application/x-www-form-urlencoded", "accept": "application/json"],
            body: Data(form.utf8)
        )
        guard response.status == 200, let token = response.json?["access_token"] as? String else {
            throw PlainHTTPClient.Failure("POST /identity/token: \(response.status) \(response.text)")
        }
        return token
    }

    private static func decode<T: Decodable>(
        _ type: T.Type,
        _ response: PlainHTTPClient.Response,
        _ what: String
    ) throws -> T {
        guard response.status == 200 else {
            throw PlainHTTPClient.Failure("\(what): \(response.status) \(response.text)")
        }
        return try JSONDecoder().decode(T.self, from: response.body)
    }

    // MARK: Process control

    /// Stops the emulator (SIGTERM, then SIGKILL when it has not exited within 20 s) and removes
    /// the temporary directory unless `KEYSTORM_KEEP_LIVE_DATA` is set.
    public func stop() async {
        await self.terminate()
        if ProcessInfo.processInfo.environment["KEYSTORM_KEEP_LIVE_DATA"] == nil {
            try? FileManager.default.removeItem(atPath: self.root)
        }
    }

    /// Stops the emulator with SIGTERM and starts it again on the same state file and, when it
    /// is still free, the same port (so ``baseURL`` normally stays the same). Faults and counters
    /// start again from ``Options``.
    public func restart() async throws {
        let (port, adminPort) = self.state.withLock { state in
            (
                URLComponents(string: state.baseURL)?.port ?? 0,
                URLComponents(string: state.adminURL)?.port ?? 0
            )
        }
        await self.terminate()
        do {
            try await self.launch(port: port, adminPort: adminPort)
        } catch {
            // The port was taken meanwhile: any free one.
            await self.terminate()
            try await self.launch(port: 0, adminPort: 0)
        }
    }

    /// SIGKILL, then waits (bounded) until the process is gone; the state file stays.
    public func kill9() async throws {
        guard let running = self.state.withLock({ $0.process }) else { return }
        running.process.signal(SIGKILL)
        guard await running.process.wait(timeout: .seconds(60)) != nil else {
            throw PlainHTTPClient.Failure("KeyProtectEmulator survived SIGKILL for 60 s")
        }
        self.state.withLock { $0.process = nil }
    }

    deinit {
        self.state.withLock { $0.process }?.process.signal(SIGKILL)
    }

    private func terminate() async {
        guard let running = self.state.withLock({ $0.process }) else { return }
        await running.process.terminate(grace: .seconds(20))
        self.state.withLock { $0.process = nil }
    }

    private func arguments(port: Int, adminPort: Int) -> [String] {
        var arguments = [
            "--listen", "127.0.0.1:\(port)", "--state-file", self.stateFile, "--instance-id", self.options.instanceID,
        ]
        for key in self.options.apiKeys { arguments += ["--api-key", key] }
        if let ttl = self.options.tokenTTL { arguments += ["--token-ttl", String(ttl)] }
        arguments += self.options.faults.arguments
        if let interval = self.options.minRotationInterval {
            arguments += ["--min-rotation-interval", String(interval)]
        }
        if let tls = self.options.tls {
            arguments += [
                "--tls-cert", tls.certificate, "--tls-key", tls.key, "--admin-listen", "127.0.0.1:\(adminPort)",
            ]
        }
        return arguments + self.options.extraArguments
    }

    private func launch(port: Int, adminPort: Int) async throws {
        let starts = self.state.withLock { state -> Int in
            state.starts += 1
            return state.starts
        }
        let logPath = self.root + "/emulator-\(starts).log"
        // A test process that crashes leaves no emulator behind (diesWithParent).
        let process = try ChildProcess(
            .init(
                self.binary,
                self.arguments(port: port, adminPort: adminPort),
                output: .file(logPath),
                error: .withOutput,
                diesWithParent: true
            )
        )
        self.state.withLock { $0.process = Running(process: process, logPath: logPath) }

        let tls = self.options.tls != nil
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(120)
        while true {
            let output = Self.read(logPath)
            if let url = Self.url(after: "KeyProtectEmulator listening on ", in: output),
                !tls || Self.url(after: "KeyProtectEmulator admin listening on ", in: output) != nil
            {
                let admin = tls ? Self.url(after: "KeyProtectEmulator admin listening on ", in: output)! : url
                self.state.withLock { state in
                    state.baseURL = url
                    state.adminURL = admin
                }
                return
            }
            if let termination = process.termination {
                throw PlainHTTPClient.Failure("KeyProtectEmulator exited with \(termination):\n\(output)")
            }
            guard clock.now < deadline else {
                throw PlainHTTPClient.Failure("KeyProtectEmulator printed no URL within 120 s:\n\(output)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The URL after `prefix` on a complete line of `output`.
    static func url(after prefix: String, in output: String) -> String? {
        for line in output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        where line.hasPrefix(prefix) {
            return String(line.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    private static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    /// The binary: `KEYPROTECT_EMULATOR_BINARY`, else `KeyProtectEmulator` beside the test
    /// bundle (.build*/debug).
    public static func locateBinary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["KEYPROTECT_EMULATOR_BINARY"], !path.isEmpty {
            return path
        }
        var candidates: [String] = []
        for executable in [
            Bundle.main.executablePath, CommandLine.arguments.first,
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
        ] {
            guard let executable, executable.hasPrefix("/") else { continue }
            var url = URL(fileURLWithPath: executable).deletingLastPathComponent()
            // Inside a bundle directory (Darwin-style .xctest/Contents/MacOS), walk up to debug/.
            while url.path.contains(".xctest") { url.deleteLastPathComponent() }
            candidates.append(url.appendingPathComponent("KeyProtectEmulator").path)
        }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        throw PlainHTTPClient.Failure(
            "the KeyProtectEmulator binary is not beside the tests (looked at \(candidates)); "
                + "build it (swift build --product KeyProtectEmulator) or set KEYPROTECT_EMULATOR_BINARY"
        )
    }
}
