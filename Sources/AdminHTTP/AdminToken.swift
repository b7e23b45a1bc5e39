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

/// The admin API's bearer token: 32 random bytes as 64 hex digits, kept in the data directory's
/// `admin.token` (mode 0600) so that the local CLI, and only users who can read the data
/// directory, can call the API. Its `description` never shows the value.
public struct AdminToken: Sendable, CustomStringConvertible {
    private let value: [UInt8]

    /// A token from its text (surrounding white space ignored).
    ///
    /// - Throws: ``AdminTokenError`` when the text is shorter than 32 characters.
    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count >= 32 else { throw AdminTokenError("an admin token has at least 32 characters") }
        self.value = Array(trimmed.utf8)
    }

    /// A fresh random token (the system's cryptographically secure generator: getrandom(2)).
    public static func generate() -> AdminToken {
        var generator = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for _ in 0..<32 {
            let byte = UInt8.random(in: 0...255, using: &generator)
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0f)])
        }
        // Safe: 64 hex digits.
        return try! AdminToken(String(decoding: text, as: UTF8.self))
    }

    /// The token's text, for the file and for the `Authorization` header of the CLI.
    public var text: String { String(decoding: self.value, as: UTF8.self) }

    /// Compares `presented` with the token in time that depends on the lengths only, never on
    /// where the first differing byte is.
    public func matches(_ presented: String) -> Bool {
        let candidate = Array(presented.utf8)
        var difference = UInt8(truncatingIfNeeded: candidate.count ^ self.value.count)
        for index in 0..<self.value.count {
            let other = index < candidate.count ? candidate[index] : 0
            difference |= self.value[index] ^ other
        }
        return difference == 0
    }

    public var description: String { "AdminToken(redacted)" }

    /// Reads the token at `path`, or creates it there (mode 0600) when the file does not exist.
    ///
    /// Called once at start, before the listener opens: the few bytes of file I/O happen before
    /// any request is served.
    /// - Returns: The token and whether it was created now.
    /// - Throws: ``AdminTokenError`` when the file cannot be read or written, or is readable by others.
    public static func loadOrCreate(at path: String) throws -> (token: AdminToken, created: Bool) {
        if let existing = try Self.load(at: path) { return (existing, false) }
        let token = Self.generate()
        let created = FileManager.default.createFile(
            atPath: path,
            contents: Data((token.text + "\n").utf8),
            attributes: [.posixPermissions: 0o600]
        )
        guard created else { throw AdminTokenError("cannot write the admin token to \(path)") }
        return (token, true)
    }

    /// Reads the token at `path`; `nil` when there is no such file.
    ///
    /// - Throws: ``AdminTokenError`` when the file exists but cannot be read, is group- or
    ///   world-accessible, or holds no valid token.
    public static func load(at path: String) throws -> AdminToken? {
        let manager = FileManager.default
        guard manager.fileExists(atPath: path) else { return nil }
        let attributes = try? manager.attributesOfItem(atPath: path)
        if let mode = (attributes?[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
            throw AdminTokenError("\(path) is readable by others (mode \(String(mode, radix: 8))); chmod 600 it")
        }
        guard let data = manager.contents(atPath: path) else { throw AdminTokenError("cannot read \(path)") }
        return try AdminToken(String(decoding: data, as: UTF8.self))
    }
}

/// An admin token that cannot be read, written or used.
public struct AdminTokenError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
