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

import ArgumentParser
import Foundation
import KMIPModel
import NIOCore
import NIOPosix

/// `keystorm-load`: a boot-storm load tool for any KMIP server (Keystorm, PyKMIP, ...).
///
/// ```
/// keystorm-load bootstorm --target H:P [--target H:P ...] --ca F --cert F --key F --hosts N
///     --keys-per-host K [--keys D] [--popularity vsan|vm] [--connection-per-op] [--concurrency C]
///     [--duration S] [--count N] [--json F] [--markdown F] [--svg F] [--kmip-version 1.1]
/// keystorm-load create ...   # durable Create rate
/// keystorm-load mixed ...    # vCenter's mix: Create, Activate, Get, Get Attributes(State)
/// ```
@main
struct KeystormLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keystorm-load",
        abstract: "Load a KMIP server the way vCenter and ESXi hosts do, and report latencies.",
        subcommands: [Bootstorm.self, CreateLoad.self, MixedLoad.self]
    )

    /// Runs Swift Concurrency's jobs on NIO's event loops (before any other task starts), so that
    /// an operation does not hop between the cooperative pool and an event loop thread on every
    /// write and read. Nothing in keystorm-load blocks: files go through `NIOThreadPool`, the
    /// progress line has a thread of its own.
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await Self.main(nil)
    }
}

/// What every scenario does around its measured phase: the client, the progress line, the report.
struct ScenarioRun {
    var name: String
    var operation: String
    var connection: ConnectionOptions
    var bounds: BoundOptions
    var output: OutputOptions
    var concurrency: Int

    func makeClient() async throws -> KMIPClient {
        let sslContext = try await KMIPClient.makeSSLContext(
            caFile: self.connection.ca,
            certificateFile: self.connection.cert,
            keyFile: self.connection.key
        )
        return KMIPClient(
            targets: self.connection.endpoints,
            sslContext: sslContext,
            version: self.connection.protocolVersion ?? .v1_1,
            timeout: .nanoseconds(Int64(self.connection.timeout * 1e9))
        )
    }

    /// Runs the measured phase, writes the reports, and fails (exit 1) when an operation failed.
    func measure(
        client: KMIPClient,
        limit: Int?,
        configuration: LoadReport.Configuration,
        setup: LoadReport.Setup?,
        session: @escaping @Sendable (Int) -> [LoadStep]
    ) async throws {
        let startedAt = Date().formatted(.iso8601)
        let start = ContinuousClock.now
        let recorder = LoadRecorder(start: start)
        let runner = LoadRunner(
            client: client,
            connectionPerOperation: self.connection.connectionPerOperation,
            concurrency: self.concurrency,
            limit: limit,
            deadline: self.bounds.duration.map { start + .nanoseconds(Int64($0 * 1e9)) },
            session: session,
            createdLog: try self.output.createdFile.map(CreatedKeyLog.init(path:))
        )
        let progress = ProgressLine(label: self.name, total: limit, recorder: recorder)
        let showProgress = !self.output.quiet && ProgressLine.isTerminal
        if showProgress { progress.start() }
        await runner.run(into: recorder)
        let seconds = (ContinuousClock.now - start).seconds
        if showProgress { progress.stop() }
        let report = LoadReport(
            scenario: self.name,
            operation: self.operation,
            startedAt: startedAt,
            targets: self.connection.endpoints.map(\.description),
            configuration: configuration,
            setup: setup,
            recorded: recorder.snapshot(),
            seconds: seconds
        )
        try await ReportWriter.write(report, to: self.output)
        if report.failed > 0 { throw ExitCode(1) }
    }

    func configuration(
        hosts: Int? = nil,
        keysPerHost: Int? = nil,
        keys: Int?,
        popularity: String? = nil
    )
        -> LoadReport.Configuration
    {
        LoadReport.Configuration(
            hosts: hosts,
            keysPerHost: keysPerHost,
            keys: keys,
            popularity: popularity,
            connectionPerOperation: self.connection.connectionPerOperation,
            resumption: self.connection.resumption,
            concurrency: self.concurrency,
            durationLimit: self.bounds.duration,
            countLimit: self.bounds.count,
            kmipVersion: self.connection.kmipVersion
        )
    }

    /// Sets up `count` keys and describes it for the report.
    func setUpKeys(_ count: Int, uidsFile: String?, client: KMIPClient) async throws -> ([String], LoadReport.Setup) {
        let (uids, created, seconds) = try await KeySetup.keys(
            count,
            uidsFile: uidsFile,
            client: client,
            concurrency: self.concurrency
        )
        let setup = LoadReport.Setup(
            keys: uids.count,
            created: created,
            reused: uids.count - created,
            seconds: seconds,
            createRate: seconds > 0 ? Double(created) / seconds : 0
        )
        return (uids, setup)
    }
}

/// `keystorm-load bootstorm`: hosts restarting at once, each getting its keys.
struct Bootstorm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A boot storm: create the keys, then every simulated host Gets its keys in parallel."
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Simulated ESXi hosts.")
    var hosts: Int

    @Option(name: .customLong("keys-per-host"), help: "Gets per host (the keys each host needs).")
    var keysPerHost: Int

    @Option(help: "Distinct keys (default: hosts × keys-per-host for vm, keys-per-host per 64 hosts for vsan).")
    var keys: Int?

    @Option(help: "vsan: few keys shared by many hosts; vm: many distinct keys.")
    var popularity: KeyPopularity = .vm

    @Option(
        name: .customLong("uids-file"),
        help: ArgumentHelp("Reuse the keys listed here; new keys are added.", valueName: "file")
    )
    var uidsFile: String?

    @OptionGroup var bounds: BoundOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard self.hosts > 0 else { throw ValidationError("--hosts must be at least 1") }
        guard self.keysPerHost > 0 else { throw ValidationError("--keys-per-host must be at least 1") }
        if let keys = self.keys, keys < 1 { throw ValidationError("--keys must be at least 1") }
    }

    var assignment: KeyAssignment {
        KeyAssignment(hosts: self.hosts, keysPerHost: self.keysPerHost, keys: self.keys, popularity: self.popularity)
    }

    /// Gets in all: `--count`, else one pass over every host (unbounded with `--duration` alone).
    var limit: Int? {
        if let count = self.bounds.count { return count }
        return self.bounds.duration == nil ? self.hosts * self.keysPerHost : nil
    }

    func run() async throws {
        let scenario = ScenarioRun(
            name: "bootstorm",
            operation: "Get",
            connection: self.connection,
            bounds: self.bounds,
            output: self.output,
            concurrency: self.connection.concurrency ?? self.hosts
        )
        let assignment = self.assignment
        let client = try await scenario.makeClient()
        let (uids, setup) = try await scenario.setUpKeys(assignment.keys, uidsFile: self.uidsFile, client: client)
        try await scenario.measure(
            client: client,
            limit: self.limit,
            configuration: scenario.configuration(
                hosts: self.hosts,
                keysPerHost: self.keysPerHost,
                keys: assignment.keys,
                popularity: self.popularity.rawValue
            ),
            setup: setup
        ) { index in
            let host = index % assignment.hosts
            return (0..<assignment.keysPerHost).map { .get(uids[assignment.key(host: host, slot: $0)]) }
        }
    }
}

/// `keystorm-load create`: the durable Create rate (each Create is committed before its answer).
struct CreateLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create AES-256 keys as vCenter does and measure the durable Create rate."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var bounds: BoundOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let scenario = ScenarioRun(
            name: "create",
            operation: "Create",
            connection: self.connection,
            bounds: self.bounds,
            output: self.output,
            concurrency: self.connection.concurrency ?? 32
        )
        let client = try await scenario.makeClient()
        let limit = self.bounds.count ?? (self.bounds.duration == nil ? 1000 : nil)
        try await scenario.measure(
            client: client,
            limit: limit,
            configuration: scenario.configuration(keys: nil),
            setup: nil
        ) { _ in Array(repeating: .create, count: 10) }
    }
}

/// `keystorm-load mixed`: vCenter's mix of operations over a pool of keys.
struct MixedLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mixed",
        abstract: "vCenter's mix: per 10 operations one Create, its Activate, six Gets and two Get Attributes(State)."
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Keys in the pool the Gets read (created first).")
    var keys: Int = 100

    @Option(
        name: .customLong("uids-file"),
        help: ArgumentHelp("Reuse the keys listed here; new keys are added.", valueName: "file")
    )
    var uidsFile: String?

    @OptionGroup var bounds: BoundOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard self.keys > 0 else { throw ValidationError("--keys must be at least 1") }
    }

    /// The ten steps of session `index` over a pool of `keys` keys.
    static func steps(session index: Int, pool: [String]) -> [LoadStep] {
        func key(_ offset: Int) -> String { pool[(index * 8 + offset) % pool.count] }
        return [.create, .activateCreated] + (0..<6).map { .get(key($0)) } + [.getState(key(6)), .getState(key(7))]
    }

    func run() async throws {
        let scenario = ScenarioRun(
            name: "mixed",
            operation: "operations",
            connection: self.connection,
            bounds: self.bounds,
            output: self.output,
            concurrency: self.connection.concurrency ?? 32
        )
        let client = try await scenario.makeClient()
        let (uids, setup) = try await scenario.setUpKeys(self.keys, uidsFile: self.uidsFile, client: client)
        let limit = self.bounds.count ?? (self.bounds.duration == nil ? 1000 : nil)
        try await scenario.measure(
            client: client,
            limit: limit,
            configuration: scenario.configuration(keys: self.keys),
            setup: setup
        ) { index in Self.steps(session: index, pool: uids) }
    }
}
