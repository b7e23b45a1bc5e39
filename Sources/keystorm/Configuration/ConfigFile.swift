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

/// The configuration file: a small, strict subset of TOML — `key = value` lines, `[section]`
/// headers giving dotted keys, `#` comments, and values that are "strings", integers or booleans.
///
/// ```toml
/// data-dir = "/var/lib/keystorm"
/// listen = "0.0.0.0:5696"
/// [tls]
/// cert = "/etc/keystorm/server.pem"
/// ```
///
/// gives `data-dir`, `listen` and `tls.cert`. Anything else is an error naming the line.
struct ConfigFile {
    enum Value: Equatable {
        case string(String)
        case integer(Int)
        case boolean(Bool)

        var text: String {
            switch self {
            case .string(let s): s
            case .integer(let i): String(i)
            case .boolean(let b): String(b)
            }
        }
    }

    var values: [String: Value] = [:]

    struct ParseError: Error, CustomStringConvertible {
        var path: String
        var line: Int
        var reason: String
        var description: String { "\(self.path):\(self.line): \(self.reason)" }
    }

    init(values: [String: Value]) {
        self.values = values
    }

    /// Reads and parses `path`.
    init(path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ParseError(path: path, line: 0, reason: "cannot read the configuration file")
        }
        try self.init(parsing: text, path: path)
    }

    init(parsing text: String, path: String = "<config>") throws {
        var section = ""
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = Self.stripComment(String(raw)).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    throw ParseError(path: path, line: number + 1, reason: "a section header is [name]")
                }
                section = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw ParseError(path: path, line: number + 1, reason: "expected key = value")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let rawValue = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw ParseError(path: path, line: number + 1, reason: "invalid key '\(key)'")
            }
            let fullKey = section.isEmpty ? key : section + "." + key
            guard self.values[fullKey] == nil else {
                throw ParseError(path: path, line: number + 1, reason: "'\(fullKey)' is set twice")
            }
            self.values[fullKey] = try Self.value(rawValue, path: path, line: number + 1)
        }
    }

    static func stripComment(_ line: String) -> String {
        var inString = false
        var escaped = false
        for (i, c) in line.enumerated() {
            if escaped {
                escaped = false
            } else if c == "\\" && inString {
                escaped = true
            } else if c == "\"" {
                inString.toggle()
            } else if c == "#" && !inString {
                return String(line.prefix(i))
            }
        }
        return line
    }

    static func value(_ text: String, path: String, line: Int) throws -> Value {
        if text == "true" { return .boolean(true) }
        if text == "false" { return .boolean(false) }
        if let integer = Int(text.replacingOccurrences(of: "_", with: "")) { return .integer(integer) }
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else {
            throw ParseError(path: path, line: line, reason: "a value is a \"string\", an integer or true/false")
        }
        var result = ""
        var escaped = false
        for c in text.dropFirst().dropLast() {
            if escaped {
                switch c {
                case "n": result.append("\n")
                case "t": result.append("\t")
                case "\"", "\\": result.append(c)
                default: throw ParseError(path: path, line: line, reason: "unknown escape \\\(c)")
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                result.append(c)
            }
        }
        return .string(result)
    }
}
