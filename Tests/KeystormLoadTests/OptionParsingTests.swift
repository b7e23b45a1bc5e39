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
import Testing

@testable import keystorm_load

@Suite("keystorm-load command line")
struct OptionParsingTests {
    static let tls = ["--ca", "ca.pem", "--cert", "client.pem", "--key", "client.key"]

    @Test func bootstormTakesTheContractsOptions() throws {
        let command = try Bootstorm.parse(
            ["--target", "127.0.0.1:5696", "--target", "kms2.example:15696"] + Self.tls + [
                "--hosts", "200", "--keys-per-host", "20", "--keys", "2000", "--popularity", "vsan",
                "--connection-per-op", "--concurrency", "50", "--duration", "30", "--count", "4000",
                "--json", "r.json", "--markdown", "r.md", "--svg", "r.svg", "--kmip-version", "1.4",
                "--uids-file", "uids.txt",
            ]
        )
        #expect(
            command.connection.endpoints == [
                Endpoint(host: "127.0.0.1", port: 5696), Endpoint(host: "kms2.example", port: 15696),
            ]
        )
        #expect(command.connection.ca == "ca.pem" && command.connection.cert == "client.pem")
        #expect(command.connection.key == "client.key")
        #expect(command.hosts == 200 && command.keysPerHost == 20 && command.keys == 2000)
        #expect(command.popularity == .vsan)
        #expect(command.connection.connectionPerOperation)
        #expect(command.connection.concurrency == 50)
        #expect(command.bounds.duration == 30 && command.bounds.count == 4000)
        #expect(command.output.json == "r.json" && command.output.markdown == "r.md" && command.output.svg == "r.svg")
        #expect(command.connection.protocolVersion.map { "\($0)" } == "1.4")
        #expect(command.uidsFile == "uids.txt")
        #expect(command.limit == 4000)
    }

    @Test func bootstormDefaults() throws {
        let command = try Bootstorm.parse(
            ["--target", "localhost:5696"] + Self.tls + ["--hosts", "5", "--keys-per-host", "4"]
        )
        #expect(command.popularity == .vm)
        #expect(!command.connection.connectionPerOperation)
        #expect(command.connection.kmipVersion == "1.1")
        #expect(command.connection.protocolVersion.map { "\($0)" } == "1.1")
        #expect(command.assignment.keys == 20)
        // One pass over every host, unless --duration alone says "until time is up".
        #expect(command.limit == 20)
        let timed = try Bootstorm.parse(
            ["--target", "localhost:5696"] + Self.tls + ["--hosts", "5", "--keys-per-host", "4", "--duration", "2"]
        )
        #expect(timed.limit == nil)
    }

    @Test(arguments: [
        ["--hosts", "5", "--keys-per-host", "4"] + OptionParsingTests.tls,  // no target
        ["--target", "nohostport"] + OptionParsingTests.tls + ["--hosts", "5", "--keys-per-host", "4"],
        ["--target", "h:70000"] + OptionParsingTests.tls + ["--hosts", "5", "--keys-per-host", "4"],
        ["--target", "h:1"] + OptionParsingTests.tls + ["--hosts", "0", "--keys-per-host", "4"],
        ["--target", "h:1"] + OptionParsingTests.tls + [
            "--hosts", "5", "--keys-per-host", "4", "--kmip-version", "1.5",
        ],
        ["--target", "h:1"] + OptionParsingTests.tls + ["--hosts", "5", "--keys-per-host", "4", "--popularity", "x"],
        ["--target", "h:1"] + OptionParsingTests.tls + ["--hosts", "5", "--keys-per-host", "4", "--count", "0"],
        ["--target", "h:1", "--cert", "c", "--key", "k", "--hosts", "5", "--keys-per-host", "4"],  // no --ca
    ])
    func bootstormRefuses(_ arguments: [String]) {
        #expect(throws: (any Error).self) { try Bootstorm.parse(arguments) }
    }

    @Test func resumptionIsRefusedWithTheReason() {
        do {
            _ = try Bootstorm.parse(
                ["--target", "h:1"] + Self.tls + ["--hosts", "1", "--keys-per-host", "1", "--resumption"]
            )
            Issue.record("--resumption was accepted")
        } catch {
            let message = Bootstorm.message(for: error)
            #expect(message.contains("cannot resume TLS sessions"), "\(message)")
        }
    }

    @Test func subcommandsAreReachableFromTheRoot() throws {
        let create = try KeystormLoad.parseAsRoot(["create", "--target", "[::1]:5696"] + Self.tls + ["--count", "10"])
        let parsed = try #require(create as? CreateLoad)
        #expect(parsed.connection.endpoints == [Endpoint(host: "::1", port: 5696)])
        let mixed = try KeystormLoad.parseAsRoot(["mixed", "--target", "h:1"] + Self.tls + ["--keys", "7"])
        #expect((mixed as? MixedLoad)?.keys == 7)
        let storm = try KeystormLoad.parseAsRoot(
            ["bootstorm", "--target", "h:1"] + Self.tls + ["--hosts", "3", "--keys-per-host", "2"]
        )
        #expect((storm as? Bootstorm)?.hosts == 3)
    }

    @Test func endpoints() {
        #expect(Endpoint(parsing: "127.0.0.1:5696") == Endpoint(host: "127.0.0.1", port: 5696))
        #expect(Endpoint(parsing: "[fe80::1]:5696") == Endpoint(host: "fe80::1", port: 5696))
        #expect(Endpoint(parsing: "kms:0") == nil)
        #expect(Endpoint(parsing: ":5696") == nil)
        #expect(Endpoint(parsing: "kms") == nil)
        #expect(Endpoint(host: "::1", port: 5696).description == "[::1]:5696")
        #expect(Endpoint(host: "127.0.0.1", port: 1).hostIsAddress)
        #expect(!Endpoint(host: "kms.example", port: 1).hostIsAddress)
    }
}
