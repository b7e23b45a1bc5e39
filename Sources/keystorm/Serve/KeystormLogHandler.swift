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
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How log records are written on standard error (key `log.format`, flag `--log-format`).
enum LogFormat: String, Sendable {
    /// One JSON object per line: `{"time":"…","level":"info","message":"…"}`, then any metadata
    /// as further string fields. The default: for journald and log shippers.
    case json
    /// `2026-01-01T00:00:00Z info message key=value`, for reading at a terminal.
    case text
}

/// The log settings of a command: format and level, bootstrapped once in `main`.
struct LogSettings: Sendable, Equatable {
    var format: LogFormat = .json
    var level: Logger.Level = .info

    /// `log.format` and `log.level` from the flags, the environment and the configuration file.
    ///
    /// - Throws: ``SettingsError`` naming the setting when a value is not one Keystorm knows.
    init(_ settings: SettingsResolver, format formatFlag: String? = nil, level levelFlag: String? = nil) throws {
        let formatText = settings.string("log.format", flag: formatFlag, default: "json").lowercased()
        guard let format = LogFormat(rawValue: formatText) else {
            throw SettingsError("'log.format' (--log-format) must be json or text, not '\(formatText)'")
        }
        let levelText = settings.string("log.level", flag: levelFlag, default: "info").lowercased()
        guard let level = Logger.Level(rawValue: levelText) else {
            let known = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw SettingsError("'log.level' (--log-level) must be one of \(known), not '\(levelText)'")
        }
        self.format = format
        self.level = level
    }

    init() {}

    /// The settings for `command`: `serve` reads its flags; the operator commands read only the
    /// environment (`KEYSTORM_LOG_FORMAT`, `KEYSTORM_LOG_LEVEL`) and `KEYSTORM_CONFIG`.
    static func of(_ command: any ParsableCommand) throws -> LogSettings {
        if let serve = command as? ServeCommand {
            return try LogSettings(serve.common.resolver(), format: serve.logFormat, level: serve.logLevel)
        }
        guard let settings = try? SettingsResolver(configPath: nil) else { return LogSettings() }
        return (try? LogSettings(settings)) ?? LogSettings()
    }

    /// Makes ``KeystormLogHandler`` the process's log handler. Call once, before anything logs.
    func bootstrap() {
        let settings = self
        LoggingSystem.bootstrap { label in KeystormLogHandler(label: label, settings: settings) }
    }
}

/// The swift-log handler of the `keystorm` executable: every record, Keystorm's own and the
/// libraries' (the reactor, the admin listener, the service group), is one line on standard
/// error in the configured ``LogFormat``.
struct KeystormLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: LogFormat

    init(label: String, settings: LogSettings) {
        self.label = label
        self.format = settings.format
        self.logLevel = settings.level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = self.metadata
        if let provided = self.metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        if let error = event.error { fields["error"] = "\(error)" }
        let line = Self.render(
            format: self.format,
            time: Date(),
            level: event.level,
            message: event.message.description,
            metadata: fields
        )
        Self.write(line)
    }

    /// One record as a line (with its newline).
    static func render(
        format: LogFormat,
        time: Date,
        level: Logger.Level,
        message: String,
        metadata: Logger.Metadata
    ) -> String {
        let stamp = time.formatted(.iso8601)
        let keys = metadata.keys.sorted()
        switch format {
        case .json:
            var line = "{\"time\":\"\(stamp)\",\"level\":\"\(level.rawValue)\",\"message\":\"\(Self.escape(message))\""
            for key in keys where key != "time" && key != "level" && key != "message" {
                line += ",\"\(Self.escape(key))\":\"\(Self.escape("\(metadata[key]!)"))\""
            }
            return line + "}\n"
        case .text:
            // One record, one line: a newline in a message or a value (a name a client sent)
            // must not start what reads as another record.
            var line = "\(stamp) \(level.rawValue) \(Self.oneLine(message))"
            for key in keys { line += " \(Self.oneLine(key))=\(Self.oneLine("\(metadata[key]!)"))" }
            return line + "\n"
        }
    }

    /// `text` with its line breaks as spaces.
    static func oneLine(_ text: String) -> String {
        String(text.unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : Character($0) })
    }

    /// `text` as the inside of a JSON string.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                escaped += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// Serializes writers so that lines from several threads never interleave.
    private static let output = Mutex(())

    private static func write(_ line: String) {
        let bytes = Array(line.utf8)
        Self.output.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
