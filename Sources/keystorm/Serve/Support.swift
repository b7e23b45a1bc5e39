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
import IOReactor
import Logging

/// Keystorm's own log records, through swift-log (``KeystormLogHandler``, bootstrapped in `main`):
/// the call shape the serve-time code has always used, `Log.info("…")` and `Log.error("…")`.
enum Log {
    /// The executable's logger; created on first use, after `main` bootstrapped the handler.
    static let logger = Logger(label: "keystorm")

    static func info(_ message: String) { Self.logger.info("\(message)") }
    /// What an operator watching the server wants even at `log.level = notice`: where it
    /// listens, how to connect, that it stops.
    static func notice(_ message: String) { Self.logger.notice("\(message)") }
    static func error(_ message: String) { Self.logger.error("\(message)") }

    /// A closure for the libraries' `log:` parameters (`ReactorConfiguration.log`,
    /// `AuditLogFile(log:)`, `RootKeyMonitor(log:)`, ...): their lines join the same log.
    static func sink(_ level: Logger.Level) -> @Sendable (String) -> Void {
        { message in Self.logger.log(level: level, "\(message)") }
    }
}

/// What `keystorm serve` prints at start: where it listens and how to connect vCenter.
enum Banner {
    /// Logs the start-up message, one `notice` record per line, once every listener is bound.
    ///
    /// - Parameters:
    ///   - firstStart: Whether this start created the data directory (or finished creating it).
    ///   - generatedTLS: Whether this start generated the server's certificates.
    ///   - serverCertificate: The certificate the server presents.
    static func print(
        directory: DataDirectory,
        listen: ListenAddress,
        backend: IOBackendKind,
        firstStart: Bool,
        generatedTLS: Bool,
        serverCertificate: String
    ) {
        for line in Self.lines(
            directory: directory,
            listen: listen,
            backend: backend,
            firstStart: firstStart,
            generatedTLS: generatedTLS,
            serverCertificate: serverCertificate
        ) where !line.isEmpty {
            Log.notice(line)
        }
    }

    static func lines(
        directory: DataDirectory,
        listen: ListenAddress,
        backend: IOBackendKind,
        firstStart: Bool,
        generatedTLS: Bool,
        serverCertificate: String
    ) -> [String] {
        var lines = [
            "Keystorm is serving KMIP on \(listen) (mutual TLS, io backend \(backend)).",
            "Data directory: \(directory.path)\(firstStart ? " (created now)" : "")",
            "Connect vCenter (Configure > Key Providers > Add Standard Key Provider, port \(listen.port)):",
            "  1. Make vCenter Trust KMS: trust the certificate vCenter shows, or upload \(directory.serverCACertificate).",
            "  2. Make KMS trust vCenter, one of:",
            "     vCenter Root CA Certificate: keystorm clients add --data-dir \(directory.path) --tenant default --ca vcenter-root.pem",
            "     vCenter Certificate:         keystorm clients add --data-dir \(directory.path) --tenant default --cert vcenter.pem",
            "     KMS certificate and key:     keystorm clients issue --data-dir \(directory.path) --tenant default --name vcenter-01",
            "     New CSR:                     keystorm clients sign-csr --data-dir \(directory.path) --tenant default --csr vcenter.csr",
        ]
        // Whenever the test client's certificate is there, not only on the start that issued it.
        let testClient = directory.testClient
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: testClient.certificate) && fileManager.fileExists(atPath: testClient.key) {
            lines += [
                "Test client of tenant 'default': openssl s_client -connect \(listen) -CAfile \(directory.serverCACertificate) -cert \(testClient.certificate) -key \(testClient.key)"
            ]
        }
        if generatedTLS {
            lines += ["Server certificate (generated): \(serverCertificate)"]
        }
        return lines
    }
}

extension DataDirectory {
    /// The test client certificate issued to tenant `default` on the first start.
    var testClient: (certificate: String, key: String) {
        let directory = self.clientDirectory(tenant: "default")
        return (directory + "/keystorm-test-client.pem", directory + "/keystorm-test-client.key")
    }
}
