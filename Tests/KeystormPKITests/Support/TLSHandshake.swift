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

/// One mutual-TLS handshake between `openssl s_server -www` and `openssl s_client` on a random loopback port.
///
/// The server accepts one connection (`-naccept 1`), requires and verifies a client certificate
/// (`-Verify 1 -verify_return_error`) and answers the client's `GET /` with a status page. Both processes run
/// under `timeout`, and the server is terminated when the exchange is over, whatever happened.
struct TLSHandshake {
    var server: CommandResult
    var client: CommandResult

    /// The client verified the server, the server verified the client, and data flowed both ways.
    var succeeded: Bool {
        self.client.succeeded && self.client.stdout.contains("Verify return code: 0 (ok)")
            && self.client.stdout.contains("HTTP/1.0 200 ok")
    }

    struct Files {
        var serverCertificate: String
        var serverKey: String
        var clientCAs: String
        var clientCertificate: String
        var clientKey: String
        var serverCAs: String
    }

    static func run(
        _ files: Files,
        in directory: TemporaryDirectory,
        serverArguments: [String] = [],
        clientArguments: [String] = []
    ) throws -> TLSHandshake {
        for _ in 0..<8 {
            let port = Int.random(in: 20_000...60_999)
            let server = try BackgroundProcess(
                arguments: [
                    "s_server", "-accept", "127.0.0.1:\(port)", "-naccept", "1", "-www",
                    "-cert", files.serverCertificate, "-key", files.serverKey,
                    "-CAfile", files.clientCAs, "-Verify", "1", "-verify_return_error",
                ] + serverArguments,
                in: directory
            )
            defer { server.stop() }
            guard server.waitForOutput("ACCEPT", seconds: 10) else {
                let result = server.stop()
                if result.stderr.contains("in use") { continue }
                throw CommandError("s_server did not start: \(result.output)")
            }
            let client = try OpenSSL.run(
                [
                    "s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost",
                    "-cert", files.clientCertificate, "-key", files.clientKey,
                    "-CAfile", files.serverCAs, "-verify_return_error", "-ign_eof",
                ] + clientArguments,
                in: directory,
                input: "GET / HTTP/1.0\r\n\r\n",
                timeoutSeconds: 15
            )
            _ = server.waitForExit(seconds: 5)
            return TLSHandshake(server: server.stop(), client: client)
        }
        throw CommandError("no free loopback port for s_server after 8 tries")
    }
}

/// An `openssl` process running in the background under `timeout`, its output kept in memory.
final class BackgroundProcess {
    private let child: ChildProcess

    init(arguments: [String], in directory: TemporaryDirectory, timeoutSeconds: Int = 30) throws {
        // A standard input held open and empty: s_server must not see end-of-file on it.
        self.child = try ChildProcess(
            .init(
                "/usr/bin/timeout",
                ["-k", "2", String(timeoutSeconds), OpenSSL.executable] + arguments,
                directory: directory.path,
                input: .heldOpen,
                error: .collected
            )
        )
    }

    deinit {
        self.stop()
    }

    /// Polls standard output for `marker`; `false` when the process exits first or time runs out.
    func waitForOutput(_ marker: String, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if self.child.output.contains(marker) { return true }
            if !self.child.isRunning { return self.child.output.contains(marker) }
            usleep(20_000)
        }
        return false
    }

    /// Waits for the process to exit by itself; `false` when time runs out.
    func waitForExit(seconds: Double) -> Bool {
        self.child.waitBlocking(timeout: .milliseconds(Int(seconds * 1000))) != nil
    }

    /// Terminates the process if it still runs, waits for it, and returns what it printed.
    @discardableResult
    func stop() -> CommandResult {
        if self.child.isRunning {
            self.child.signal(SIGTERM)
            if !self.waitForExit(seconds: 3) { self.child.signal(SIGKILL) }
        }
        let termination = self.child.waitBlocking(timeout: .seconds(30))
        return CommandResult(
            status: termination?.status ?? -1,
            stdout: self.child.output,
            stderr: self.child.errorOutput
        )
    }
}
