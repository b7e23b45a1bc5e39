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
import Logging
import RootKeys
import Testing

@testable import keystorm

/// The log line formats of `keystorm serve` and its one-line error texts, without a process.
@Suite("keystorm serve: log lines and error texts")
struct ServeLoggingTests {
    let time = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("A JSON line keeps today's fields, escapes what JSON needs and adds metadata as strings")
    func jsonLine() throws {
        let line = KeystormLogHandler.render(
            format: .json,
            time: self.time,
            level: .error,
            message: "admin API: \"quoted\"\\ and\nnew line\u{1}",
            metadata: ["service": "admin API", "count": "3"]
        )
        #expect(line.hasSuffix("}\n"))
        #expect(line.split(separator: "\n").count == 1)
        #expect(line.hasPrefix("{\"time\":\"2027-01-15T08:00:00Z\",\"level\":\"error\",\"message\":"))
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        )
        #expect(object["message"] == "admin API: \"quoted\"\\ and\nnew line\u{1}")
        #expect(object["service"] == "admin API")
        #expect(object["count"] == "3")
        #expect(object["level"] == "error")
    }

    @Test("Metadata cannot replace the time, level or message fields")
    func reservedFields() throws {
        let line = KeystormLogHandler.render(
            format: .json,
            time: self.time,
            level: .info,
            message: "m",
            metadata: ["message": "forged", "level": "critical"]
        )
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["message"] == "m")
        #expect(object["level"] == "info")
    }

    @Test("A text line: time, level, message on one line, then key=value")
    func textLine() {
        let line = KeystormLogHandler.render(
            format: .text,
            time: self.time,
            level: .notice,
            message: "two\nlines",
            metadata: ["service": "KMIP listener"]
        )
        #expect(line == "2027-01-15T08:00:00Z notice two lines service=KMIP listener\n")
        // A value with line breaks (a name a client sent) cannot start a forged record.
        let forged = KeystormLogHandler.render(
            format: .text,
            time: self.time,
            level: .info,
            message: "refused",
            metadata: ["client": "x\r\n2027-01-15T08:00:00Z notice admin token accepted"]
        )
        #expect(forged.split(separator: "\n").count == 1, "\(forged)")
        #expect(forged.hasSuffix("client=x  2027-01-15T08:00:00Z notice admin token accepted\n"), "\(forged)")
    }

    @Test("log.format and log.level: flag beats environment beats file; unknown values name the setting")
    func settings() throws {
        let file = try ConfigFile(parsing: "[log]\nformat = \"text\"\nlevel = \"debug\"")
        var resolver = try SettingsResolver(configPath: nil, environment: [:])
        resolver.file = file
        let fromFile = try LogSettings(resolver)
        #expect(fromFile.format == .text && "\(fromFile.level)" == "debug")
        resolver.environment = ["KEYSTORM_LOG_LEVEL": "warning"]
        #expect("\(try LogSettings(resolver).level)" == "warning")
        let fromFlags = try LogSettings(resolver, format: "json", level: "error")
        #expect(fromFlags.format == .json && "\(fromFlags.level)" == "error")
        #expect(throws: SettingsError.self) { try LogSettings(resolver, format: "xml") }
        #expect(throws: SettingsError.self) { try LogSettings(resolver, level: "loud") }
        #expect(LogSettings().format == .json && "\(LogSettings().level)" == "info")
    }

    @Test("keyprotect.outage-max-cooldown: from 1s to 1h, else an error that names the setting")
    func outageCooldownBounds() throws {
        var resolver = try SettingsResolver(
            configPath: nil,
            environment: [
                "KEYSTORM_KEYPROTECT_URL": "https://kms.example", "KEYSTORM_KEYPROTECT_INSTANCE_ID": "instance",
                "KEYSTORM_KEYPROTECT_API_KEY": "not-a-real-key",
            ]
        )
        #expect(try KeyProtectSettings(resolver).configuration.outageMaxCooldown == .seconds(10))
        for (value, accepted) in [("1s", true), ("1h", true), ("0.5", false), ("2h", false), ("100000000000", false)] {
            resolver.environment["KEYSTORM_KEYPROTECT_OUTAGE_MAX_COOLDOWN"] = value
            if accepted {
                #expect(try KeyProtectSettings(resolver).configuration.outageMaxCooldown > .zero, "\(value)")
            } else {
                let error = #expect(throws: SettingsError.self, "\(value)") { try KeyProtectSettings(resolver) }
                #expect(error.map { "\($0)".contains("keyprotect.outage-max-cooldown") } == true, "\(value)")
            }
        }
    }

    @Test("OpenSSL error stacks become their first reason")
    func openSSLReason() {
        #expect(
            ServeErrorText.firstOpenSSLReason(
                "the key does not match the certificate: error:05800074:x509 certificate routines::key values mismatch; error:0A00010B:SSL routines::x"
            ) == "the key does not match the certificate: key values mismatch"
        )
        #expect(ServeErrorText.firstOpenSSLReason("no stack here") == "no stack here")
    }

    @Test("Foundation file errors become the path and the cause")
    func fileErrors() {
        let missing = CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: "/etc/keystorm/ca.pem"])
        #expect(ServeErrorText.describe(missing) == "/etc/keystorm/ca.pem: no such file or directory")
        let denied = CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: "/var/lib/keystorm"])
        #expect(ServeErrorText.describe(denied) == "/var/lib/keystorm: permission denied")
    }

    @Test("A listener error names the listener, the address and the cause in words")
    func listenerError() {
        struct Other: Error, CustomStringConvertible { var description: String { "first\nsecond" } }
        let error = ListenerError(listener: "admin API", address: "127.0.0.1:9696", error: Other())
        #expect(error.description == "admin API: cannot listen on 127.0.0.1:9696: first; second")
        #expect(ServeErrorText.errnoText(98) == "address already in use")
    }
}
