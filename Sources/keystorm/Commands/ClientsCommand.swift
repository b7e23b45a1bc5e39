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
import KeyStore
import KeystormControl

/// The four ways vCenter's "Make KMS trust vCenter" dialog offers, plus list and remove.
/// With a server running, changes go through its admin API and are in force when the command
/// returns; otherwise they are stored and a server applies them at start.
struct ClientsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clients",
        abstract: "Manage which client certificates may connect, and for which tenant.",
        discussion: """
            vCenter's four trust modes:
              vCenter Root CA Certificate   keystorm clients add --tenant T --ca vcenter-root.pem
              vCenter Certificate           keystorm clients add --tenant T --cert vcenter.pem
              KMS certificate and key       keystorm clients issue --tenant T --name vcenter-01
              New CSR                       keystorm clients sign-csr --tenant T --csr vcenter.csr
            """,
        subcommands: [Add.self, Issue.self, SignCSR.self, List.self, Remove.self]
    )

    /// The text of `path`, or a one-line error naming it and the cause.
    static func read(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ControlError.classifying(error, operation: "cannot read \(path)")
        }
    }

    static func describe(_ rule: ClientRule, verb: String) -> String {
        "\(verb) \(rule.label) (sha256 \(rule.fingerprint)) for tenant \(rule.tenantID): rule \(rule.id)"
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Trust a CA (--ca) or pin one certificate (--cert) for a tenant.")
        @OptionGroup var common: CommonOptions
        @Option(help: "The tenant the client acts for.") var tenant: String = "default"
        @Option(help: "A CA certificate (PEM): every client certificate it issued is trusted.") var ca: String?
        @Option(help: "A client certificate (PEM) to pin by its SHA-256 fingerprint.") var cert: String?
        @Option(help: "A label for operators.") var label: String?

        func validate() throws {
            guard (self.ca == nil) != (self.cert == nil) else { throw ValidationError("give exactly one of --ca or --cert") }
        }

        func run() async throws {
            try await CommandErrors.presenting {
                if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
                let control = try await self.common.dataDirectory(self.common.resolver()).openControlPlane()
                if let ca = self.ca {
                    for rule in try await control.trustCA(pem: ClientsCommand.read(ca), tenant: self.tenant, label: self.label) {
                        print(ClientsCommand.describe(rule, verb: "trusting CA"))
                    }
                } else if let cert = self.cert {
                    let rule = try await control.pin(pem: ClientsCommand.read(cert), tenant: self.tenant, label: self.label)
                    print(ClientsCommand.describe(rule, verb: "pinned"))
                }
            }
        }
    }

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a client certificate and key for vCenter to upload, and trust it.")
        @OptionGroup var common: CommonOptions
        @Option(help: "The tenant the client acts for.") var tenant: String = "default"
        @Option(help: "The certificate's common name, e.g. vcenter-01.") var name: String

        func run() async throws {
            try await CommandErrors.presenting {
                let issued: (rule: AdminClientRuleLine, certificate: String, key: String)
                if let api = await AdminAPIClient.running(self.common) {
                    issued = try await self.issue(using: api)
                } else {
                    let control = try await self.common.dataDirectory(self.common.resolver()).openControlPlane()
                    let made = try await control.issue(name: self.name, tenant: self.tenant)
                    issued = (AdminClientRuleLine(made.rule), made.certificatePath, made.keyPath)
                }
                print("issued \(issued.rule.text)")
                print("certificate: \(issued.certificate)")
                print("private key: \(issued.key)")
                print("In vCenter: Key Provider > Make KMS trust vCenter > KMS certificate and private key: upload both files.")
            }
        }
    }

    struct SignCSR: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sign-csr", abstract: "Sign vCenter's certificate signing request and trust the result.")
        @OptionGroup var common: CommonOptions
        @Option(help: "The tenant the client acts for.") var tenant: String = "default"
        @Option(help: "The CSR from vCenter (PEM).") var csr: String
        @Option(help: "Where to write the signed certificate (PEM). Default: print it.") var out: String?
        @Option(help: "A label for operators.") var label: String?

        func run() async throws {
            try await CommandErrors.presenting {
                let pem = try ClientsCommand.read(self.csr)
                let signed: (rule: AdminClientRuleLine, subject: String, certificate: String)
                if let api = await AdminAPIClient.running(self.common) {
                    signed = try await self.sign(pem, using: api)
                } else {
                    let control = try await self.common.dataDirectory(self.common.resolver()).openControlPlane()
                    let made = try await control.signCSR(pem: pem, tenant: self.tenant, label: self.label)
                    signed = (AdminClientRuleLine(made.rule), made.subject, made.certificatePEM)
                }
                if let out = self.out {
                    do {
                        try signed.certificate.write(toFile: out, atomically: true, encoding: .utf8)
                    } catch {
                        throw ControlError.classifying(
                            error,
                            operation: "signed \(signed.subject) (rule \(signed.rule.id)), but cannot write \(out)"
                        )
                    }
                    print("signed \(signed.subject): \(out)")
                } else {
                    print(signed.certificate, terminator: "")
                }
                // On standard error when the certificate goes to standard output, so that it stays a clean PEM.
                let line = "trusted \(signed.rule.text)\n"
                if self.out == nil {
                    FileHandle.standardError.write(Data(line.utf8))
                } else {
                    print(line, terminator: "")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List client rules.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Only this tenant's rules.") var tenant: String?

        func run() async throws {
            try await CommandErrors.presenting {
                if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
                let directory = try self.common.dataDirectory(self.common.resolver())
                let store = try await directory.openExistingStore()
                if let tenant = self.tenant, try await store.tenant(id: tenant) == nil {
                    throw ControlError(.notFound, "no tenant '\(tenant)'; see 'keystorm tenants list'")
                }
                print("RULE\tTENANT\tKIND\tSHA-256\tLABEL")
                for rule in try await store.clients(tenantID: self.tenant) {
                    print("\(rule.id)\t\(rule.tenantID)\t\(rule.kind.rawValue)\t\(rule.fingerprint)\t\(rule.label)")
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a client rule; its clients are refused from the next connection on.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "The rule id (see 'keystorm clients list').") var id: String

        func run() async throws {
            try await CommandErrors.presenting {
                if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
                let directory = try self.common.dataDirectory(self.common.resolver())
                let store = try await directory.openExistingStore()
                guard try await store.removeClient(id: self.id) else {
                    throw ControlError(.notFound, "no client rule \(self.id); see 'keystorm clients list'")
                }
                print("removed rule \(self.id)")
            }
        }
    }
}

/// A client rule as the commands print it, whether it came from the store or the admin API.
struct AdminClientRuleLine {
    var id: String
    var text: String

    init(id: String, label: String, fingerprint: String, tenant: String) {
        self.id = id
        self.text = "\(label) (sha256 \(fingerprint)) for tenant \(tenant): rule \(id)"
    }

    init(_ rule: ClientRule) {
        self.init(id: rule.id, label: rule.label, fingerprint: rule.fingerprint, tenant: rule.tenantID)
    }
}
