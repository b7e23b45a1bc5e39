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

/// One setting: its configuration-file key, the environment variable and the command-line flag
/// that also set it. Precedence: flag, then environment, then file, then the default.
struct SettingKey: Sendable {
    var key: String

    /// `KEYSTORM_` and the key in upper case, `-` and `.` as `_` (`tls.cert` → `KEYSTORM_TLS_CERT`).
    var environmentVariable: String {
        "KEYSTORM_" + self.key.uppercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: ".", with: "_")
    }
}

/// Resolves settings from flags, the environment and a configuration file.
struct SettingsResolver {
    var file: ConfigFile
    var environment: [String: String]

    init(configPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let path = configPath ?? environment["KEYSTORM_CONFIG"]
        self.file = try path.map { try ConfigFile(path: $0) } ?? ConfigFile(values: [:])
        self.environment = environment
    }

    /// The value of `key`: the flag when given, else the environment, else the file.
    func string(_ key: String, flag: String?) -> String? {
        if let flag { return flag }
        if let env = self.environment[SettingKey(key: key).environmentVariable], !env.isEmpty { return env }
        return self.file.values[key]?.text
    }

    func string(_ key: String, flag: String?, default fallback: String) -> String {
        self.string(key, flag: flag) ?? fallback
    }

    func integer(_ key: String, flag: Int?, default fallback: Int) throws -> Int {
        guard let text = self.string(key, flag: flag.map(String.init)) else { return fallback }
        guard let value = Int(text) else { throw SettingsError("'\(key)' must be an integer, not '\(text)'") }
        return value
    }

    func boolean(_ key: String, flag: Bool?, default fallback: Bool) throws -> Bool {
        guard let text = self.string(key, flag: flag.map { String($0) }) else { return fallback }
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw SettingsError("'\(key)' must be true or false, not '\(text)'")
        }
    }
}

/// A setting with a value Keystorm cannot use.
struct SettingsError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A `host:port` address.
struct ListenAddress: Sendable, CustomStringConvertible {
    var host: String
    var port: Int

    init(parsing text: String, setting: String) throws {
        // [v6]:port or host:port
        var host = text
        var portText = ""
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw SettingsError("'\(setting)' must be host:port, not '\(text)'") }
            portText = String(rest.dropFirst())
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
        }
        guard let port = Int(portText), (0...65535).contains(port), !host.isEmpty else {
            throw SettingsError("'\(setting)' must be host:port, not '\(text)'")
        }
        self.host = host
        self.port = port
    }

    var description: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }
}
