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
import KMIPModel

/// Where to connect and how: targets, mutual-TLS files, connection pattern, concurrency.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("target"),
        help: ArgumentHelp(
            "A KMIP server, HOST:PORT; repeat for several (round-robin, failover).",
            valueName: "host:port"
        )
    )
    var targets: [String] = []

    @Option(help: ArgumentHelp("The CA certificate (PEM) that signed the server certificates.", valueName: "file"))
    var ca: String

    @Option(help: ArgumentHelp("The client certificate (PEM).", valueName: "file"))
    var cert: String

    @Option(help: ArgumentHelp("The client private key (PEM).", valueName: "file"))
    var key: String

    @Flag(
        name: .customLong("connection-per-op"),
        help: "Open a new TCP+TLS connection for every operation, as vCenter does (default: persistent connections)."
    )
    var connectionPerOperation = false

    @Flag(help: "Resume TLS sessions on new connections (not available with SwiftNIO SSL; see the README).")
    var resumption = false

    @Option(help: "Operations in flight at once (bootstorm: default every host; create, mixed: default 32).")
    var concurrency: Int?

    @Option(help: "Seconds to wait for a connection, a handshake or a response before counting a timeout.")
    var timeout: Double = 30

    @Option(name: .customLong("kmip-version"), help: "The KMIP protocol version of the requests (1.0-1.4, 2.0, 2.1).")
    var kmipVersion: String = "1.1"

    /// The targets, parsed.
    var endpoints: [Endpoint] { self.targets.compactMap(Endpoint.init(parsing:)) }

    var protocolVersion: ProtocolVersion? { Self.protocolVersion(self.kmipVersion) }

    static func protocolVersion(_ text: String) -> ProtocolVersion? {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let major = Int32(parts[0]), let minor = Int32(parts[1]) else { return nil }
        let version = ProtocolVersion(major: major, minor: minor)
        let known: [ProtocolVersion] = [.v1_0, .v1_1, .v1_2, .v1_3, .v1_4, .v2_0, .v2_1]
        return known.contains(version) ? version : nil
    }

    func validate() throws {
        guard !self.targets.isEmpty else { throw ValidationError("give at least one --target HOST:PORT") }
        for target in self.targets where Endpoint(parsing: target) == nil {
            throw ValidationError("--target \(target) is not HOST:PORT")
        }
        guard self.protocolVersion != nil else {
            throw ValidationError("--kmip-version \(self.kmipVersion) is not one of 1.0-1.4, 2.0, 2.1")
        }
        if let concurrency = self.concurrency, concurrency < 1 {
            throw ValidationError("--concurrency must be at least 1")
        }
        guard self.timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if self.resumption {
            // SwiftNIO SSL 2.37 has no client session cache and no way to offer a session: every
            // handshake it makes is a full one. Refuse rather than measure something else.
            throw ValidationError(
                "--resumption: SwiftNIO SSL cannot resume TLS sessions as a client (no client session cache); "
                    + "every connection makes a full handshake"
            )
        }
    }
}

/// When the measured phase stops: after `--count` operations and/or `--duration` seconds.
struct BoundOptions: ParsableArguments {
    @Option(help: "Stop starting operations after this many seconds.")
    var duration: Double?

    @Option(help: "Run this many operations in all.")
    var count: Int?

    func validate() throws {
        if let duration = self.duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        if let count = self.count, count < 1 { throw ValidationError("--count must be at least 1") }
    }
}

/// Where the reports go (the Markdown report is printed to standard output too).
struct OutputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Write the report as JSON.", valueName: "file"))
    var json: String?

    @Option(help: ArgumentHelp("Write the report as Markdown.", valueName: "file"))
    var markdown: String?

    @Option(help: ArgumentHelp("Write latency over time and a latency histogram as SVG.", valueName: "file"))
    var svg: String?

    @Flag(help: "Print no progress line, even on a terminal.")
    var quiet = false

    @Option(
        name: .customLong("created-file"),
        help: ArgumentHelp(
            "Append the Unique Identifier of every Create answered Success, as it arrives (to check after a failover).",
            valueName: "file"
        )
    )
    var createdFile: String?
}
