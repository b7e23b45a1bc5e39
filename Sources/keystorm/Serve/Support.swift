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

import Dispatch
import Foundation
import IOReactor

/// Log lines on standard error: one JSON object per line, for journald and log shippers.
enum Log {
    static func info(_ message: String) { self.write("info", message) }
    static func error(_ message: String) { self.write("error", message) }

    private static func write(_ level: String, _ message: String) {
        let time = ISO8601DateFormatter().string(from: Date())
        var escaped = ""
        for scalar in message.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case _ where scalar.value < 0x20: escaped += String(format: "\\u%04x", scalar.value)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        FileHandle.standardError.write(Data("{\"time\":\"\(time)\",\"level\":\"\(level)\",\"message\":\"\(escaped)\"}\n".utf8))
    }
}

/// Turns SIGTERM and SIGINT into a graceful shutdown.
final class SignalHandler {
    private let sources: [any DispatchSourceSignal]

    init(_ handler: @escaping @Sendable (String) -> Void) {
        var sources: [any DispatchSourceSignal] = []
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(name) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    deinit {
        for source in self.sources { source.cancel() }
    }
}

/// What `keystorm serve` prints at start: where it listens and how to connect vCenter.
enum Banner {
    static func print(
        directory: DataDirectory,
        listen: ListenAddress,
        backend: IOBackendKind,
        firstStart: Bool,
        generatedTLS: Bool,
        testClient: (certificate: String, key: String)?,
        serverCertificate: String
    ) {
        var lines = [
            "Keystorm is serving KMIP on \(listen) (mutual TLS, io backend \(backend)).",
            "Data directory: \(directory.path)\(firstStart ? " (created now)" : "")",
            "",
            "Connect vCenter (Configure > Key Providers > Add Standard Key Provider, port \(listen.port)):",
            "  1. Make vCenter Trust KMS: trust the certificate vCenter shows, or upload \(directory.serverCACertificate).",
            "  2. Make KMS trust vCenter, one of:",
            "     vCenter Root CA Certificate: keystorm clients add --data-dir \(directory.path) --tenant default --ca vcenter-root.pem",
            "     vCenter Certificate:         keystorm clients add --data-dir \(directory.path) --tenant default --cert vcenter.pem",
            "     KMS certificate and key:     keystorm clients issue --data-dir \(directory.path) --tenant default --name vcenter-01",
            "     New CSR:                     keystorm clients sign-csr --data-dir \(directory.path) --tenant default --csr vcenter.csr",
        ]
        if let testClient {
            lines += [
                "",
                "A test client certificate for tenant 'default' was issued:",
                "  openssl s_client -connect \(listen) -CAfile \(directory.serverCACertificate) -cert \(testClient.certificate) -key \(testClient.key)",
            ]
        }
        if generatedTLS {
            lines += ["", "Server certificate (generated): \(serverCertificate)"]
        }
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}
