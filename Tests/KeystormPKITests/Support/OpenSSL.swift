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

/// A fresh directory under the system temporary directory, removed with everything in it on deinit.
final class TemporaryDirectory {
    let path: String

    init() throws {
        self.path = NSTemporaryDirectory() + "/keystorm-pki-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }

    /// The absolute path of `name` inside the directory.
    func file(_ name: String) -> String { self.path + "/" + name }

    /// Writes `text` to `name` and returns its path.
    @discardableResult
    func write(_ text: String, to name: String) throws -> String {
        let path = self.file(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Writes `bytes` to `name` and returns its path.
    @discardableResult
    func write(bytes: [UInt8], to name: String) throws -> String {
        let path = self.file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func read(_ name: String) throws -> String {
        try String(contentsOfFile: self.file(name), encoding: .utf8)
    }

    func readBytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: self.file(name))))
    }
}

struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The result of one finished command.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var succeeded: Bool { self.status == 0 }
    var output: String { self.stdout + self.stderr }
}

/// Runs the OpenSSL command-line tool, the independent peer of these tests, always under a time limit.
enum OpenSSL {
    static let executable = "/usr/bin/openssl"

    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: Self.executable) }

    /// Runs `openssl arguments…` in `directory` with `input` on standard input, killed after `timeoutSeconds`.
    @discardableResult
    static func run(
        _ arguments: [String],
        in directory: TemporaryDirectory,
        input: String? = nil,
        timeoutSeconds: Int = 30
    ) throws -> CommandResult {
        let child = try ChildProcess(
            .init(
                Self.executable,
                arguments,
                directory: directory.path,
                input: input.map { .bytes(Array($0.utf8)) } ?? .null,
                error: .collected
            )
        )
        guard let termination = child.waitBlocking(timeout: .seconds(timeoutSeconds)) else {
            // As `timeout(1)` reports it: status 124, with what was printed so far.
            child.signal(SIGKILL)
            child.waitBlocking(timeout: .seconds(30))
            return CommandResult(status: 124, stdout: child.output, stderr: child.errorOutput)
        }
        return CommandResult(status: termination.status, stdout: child.output, stderr: child.errorOutput)
    }

    /// Runs a command that must succeed and returns its standard output.
    @discardableResult
    static func output(_ arguments: [String], in directory: TemporaryDirectory, input: String? = nil) throws -> String {
        let result = try Self.run(arguments, in: directory, input: input)
        guard result.succeeded else {
            throw CommandError(
                "openssl \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)"
            )
        }
        return result.stdout
    }

    /// `openssl x509 -text` of a certificate file.
    static func text(ofCertificate path: String, in directory: TemporaryDirectory) throws -> String {
        try Self.output(["x509", "-in", path, "-noout", "-text"], in: directory)
    }

    /// The SubjectPublicKeyInfo PEM of a certificate file.
    static func publicKey(ofCertificate path: String, in directory: TemporaryDirectory) throws -> String {
        try Self.output(["x509", "-in", path, "-noout", "-pubkey"], in: directory)
    }

    /// The SubjectPublicKeyInfo PEM derived from a private key file.
    static func publicKey(ofPrivateKey path: String, in directory: TemporaryDirectory) throws -> String {
        try Self.output(["pkey", "-in", path, "-pubout"], in: directory)
    }
}
