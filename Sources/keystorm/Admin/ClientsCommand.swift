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
import KeystormPKI

/// The four ways vCenter's "Make KMS trust vCenter" dialog offers, plus list and remove.
/// Changes apply to new connections within a second, without a restart.
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

    static func read(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read \(path)")
        }
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
            if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
            let directory = try self.common.dataDirectory(self.common.resolver())
            let (store, rootKeys) = try await directory.openExisting()
            let admin = TenantAdmin(store: store, rootKeys: rootKeys, dataDirectory: directory)
            if let ca = self.ca {
                for rule in try await admin.trustCA(pem: ClientsCommand.read(ca), tenant: self.tenant, label: self.label) {
                    print("trusting CA \(rule.label) (sha256 \(rule.fingerprint)) for tenant \(rule.tenantID): rule \(rule.id)")
                }
            } else if let cert = self.cert {
                let rule = try await admin.pin(pem: ClientsCommand.read(cert), tenant: self.tenant, label: self.label)
                print("pinned \(rule.label) (sha256 \(rule.fingerprint)) for tenant \(rule.tenantID): rule \(rule.id)")
            }
        }
    }

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a client certificate and key for vCenter to upload, and trust it.")
        @OptionGroup var common: CommonOptions
        @Option(help: "The tenant the client acts for.") var tenant: String = "default"
        @Option(help: "The certificate's common name, e.g. vcenter-01.") var name: String

        func run() async throws {
            let directory = try self.common.dataDirectory(self.common.resolver())
            let (store, rootKeys) = try await directory.openExisting()
            let (rule, certificate, key) = try await TenantAdmin(store: store, rootKeys: rootKeys, dataDirectory: directory)
                .issue(name: self.name, tenant: self.tenant)
            print("issued \(rule.label) (sha256 \(rule.fingerprint)) for tenant \(rule.tenantID): rule \(rule.id)")
            print("certificate: \(certificate)")
            print("private key: \(key)")
            print("In vCenter: Key Provider > Make KMS trust vCenter > KMS certificate and private key: upload both files.")
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
            let directory = try self.common.dataDirectory(self.common.resolver())
            let (store, rootKeys) = try await directory.openExisting()
            let (rule, certificate) = try await TenantAdmin(store: store, rootKeys: rootKeys, dataDirectory: directory)
                .signCSR(pem: ClientsCommand.read(self.csr), tenant: self.tenant, label: self.label)
            if let out = self.out {
                try certificate.pem.write(toFile: out, atomically: true, encoding: .utf8)
                print("signed \(certificate.subject) (sha256 \(rule.fingerprint)) for tenant \(rule.tenantID): \(out)")
            } else {
                print(certificate.pem, terminator: "")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List client rules.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Only this tenant's rules.") var tenant: String?

        func run() async throws {
            if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
            let directory = try self.common.dataDirectory(self.common.resolver())
            let (store, _) = try await directory.openExisting()
            print("RULE\tTENANT\tKIND\tSHA-256\tLABEL")
            for rule in try await store.clients(tenantID: self.tenant) {
                print("\(rule.id)\t\(rule.tenantID)\t\(rule.kind.rawValue)\t\(rule.fingerprint)\t\(rule.label)")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a client rule; its clients are refused from the next connection on.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "The rule id (see 'keystorm clients list').") var id: String

        func run() async throws {
            if let api = await AdminAPIClient.running(self.common) { return try await self.run(using: api) }
            let directory = try self.common.dataDirectory(self.common.resolver())
            let (store, _) = try await directory.openExisting()
            guard try await store.removeClient(id: self.id) else { throw ValidationError("no client rule \(self.id)") }
            print("removed rule \(self.id)")
        }
    }
}
