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

import AdminHTTP
import ArgumentParser
import Foundation
import KeystormControl
import NIOHTTP1

/// The operator commands through the running server's admin API (see ``AdminAPIClient``); each
/// prints what its direct form prints.
extension TenantsCommand.Create {
    func run(using api: AdminAPIClient) async throws {
        let tenant: AdminTenant = try await api.call(
            .POST,
            "/v1/tenants",
            body: AdminCreateTenant(id: self.id, displayName: self.name)
        )
        print(
            "created tenant \(tenant.id) (root key \(tenant.rootKeyProvider):\(tenant.rootKeyID) v\(tenant.rootKeyVersion))"
        )
    }
}

extension TenantsCommand.List {
    func run(using api: AdminAPIClient) async throws {
        let answer: [String: [AdminTenant]] = try await api.call(.GET, "/v1/tenants")
        print("TENANT\tROOT KEY\tVERSION\tCLIENT RULES\tNAME")
        for tenant in answer["tenants"] ?? [] {
            print(
                "\(tenant.id)\t\(tenant.rootKeyProvider):\(tenant.rootKeyID)\t\(tenant.rootKeyVersion)\t\(tenant.clientRules)\t\(tenant.displayName)"
            )
        }
    }
}

extension ClientsCommand.Add {
    func run(using api: AdminAPIClient) async throws {
        let pem = try ClientsCommand.read(self.ca ?? self.cert ?? "")
        let request = AdminAddClient(
            tenant: self.tenant,
            kind: self.ca != nil ? "ca" : "pinned",
            pem: pem,
            label: self.label
        )
        let answer: [String: [AdminClientRule]] = try await api.call(.POST, "/v1/clients", body: request)
        for rule in answer["clients"] ?? [] {
            let verb = rule.kind == "ca" ? "trusting CA" : "pinned"
            print("\(verb) \(AdminClientRuleLine(rule).text)")
        }
    }
}

extension ClientsCommand.Issue {
    func issue(using api: AdminAPIClient) async throws -> (rule: AdminClientRuleLine, certificate: String, key: String)
    {
        let issued: AdminIssuedClient = try await api.call(
            .POST,
            "/v1/clients/issue",
            body: AdminIssueClient(tenant: self.tenant, name: self.name)
        )
        return (AdminClientRuleLine(issued.rule), issued.certificatePath, issued.keyPath)
    }
}

extension ClientsCommand.SignCSR {
    func sign(
        _ pem: String,
        using api: AdminAPIClient
    ) async throws -> (rule: AdminClientRuleLine, subject: String, certificate: String) {
        let signed: AdminSignedCSR = try await api.call(
            .POST,
            "/v1/clients/sign-csr",
            body: AdminSignCSR(tenant: self.tenant, csr: pem, label: self.label)
        )
        return (AdminClientRuleLine(signed.rule), signed.subject, signed.certificate)
    }
}

extension AdminClientRuleLine {
    init(_ rule: AdminClientRule) {
        self.init(id: rule.id, label: rule.label, fingerprint: rule.fingerprint, tenant: rule.tenant)
    }
}

extension ClientsCommand.List {
    func run(using api: AdminAPIClient) async throws {
        let query = self.tenant.map { "?tenant=" + AdminAPIClient.segment($0) } ?? ""
        let answer: [String: [AdminClientRule]] = try await api.call(.GET, "/v1/clients" + query)
        print("RULE\tTENANT\tKIND\tSHA-256\tLABEL")
        for rule in answer["clients"] ?? [] {
            print("\(rule.id)\t\(rule.tenant)\t\(rule.kind)\t\(rule.fingerprint)\t\(rule.label)")
        }
    }
}

extension ClientsCommand.Remove {
    func run(using api: AdminAPIClient) async throws {
        let _: [String: String] = try await api.call(.DELETE, "/v1/clients/" + AdminAPIClient.segment(self.id))
        print("removed rule \(self.id)")
    }
}

extension KeysCommand.List {
    func run(using api: AdminAPIClient) async throws {
        let list: AdminKeyList = try await api.call(
            .GET,
            "/v1/tenants/\(AdminAPIClient.segment(self.tenant))/keys?limit=\(self.limit)"
        )
        KeysCommand.printTable(
            list.keys.map { ($0.uniqueIdentifier, $0.objectType, $0.state, $0.rootKeyVersion, $0.createdAt, $0.names) },
            total: list.total
        )
    }
}

extension KeysCommand.Revoke {
    func run(using api: AdminAPIClient) async throws {
        let path = "/v1/tenants/\(AdminAPIClient.segment(self.tenant))/keys/\(AdminAPIClient.segment(self.uid))/revoke"
        let _: [String: String] = try await api.call(.POST, path, body: AdminRevokeKey(compromised: self.compromised))
        print("revoked \(self.uid)")
    }
}

extension KeysCommand.Destroy {
    func run(using api: AdminAPIClient) async throws {
        let path = "/v1/tenants/\(AdminAPIClient.segment(self.tenant))/keys/\(AdminAPIClient.segment(self.uid))/destroy"
        let _: [String: String] = try await api.call(.POST, path)
        print("destroyed \(self.uid)")
    }
}

extension KeysCommand.Prewarm {
    func run(using api: AdminAPIClient) async throws {
        let path = "/v1/tenants/\(AdminAPIClient.segment(self.tenant))/keys/prewarm?recent=\(self.recent)"
        let result: AdminPrewarmResult = try await api.call(.POST, path)
        print(
            "prewarmed tenant \(result.tenant) in the running server: \(result.unwrapped) keys cached, \(result.failed) failed"
        )
    }
}

extension RootKeyCommand.Status {
    func run(using api: AdminAPIClient) async throws {
        let status: AdminRootKeyStatus = try await api.call(
            .GET,
            "/v1/tenants/\(AdminAPIClient.segment(self.tenant))/root-key"
        )
        print("tenant:          \(status.tenant)")
        print("provider:        \(status.provider)")
        print("root key:        \(status.keyID)")
        print("state:           \(status.state)")
        print("current version: \(status.currentVersion)")
        let remaining = status.keysOnOlderVersions ?? 0
        print("re-wrap:         \(remaining == 0 ? "complete" : "\(remaining) keys to go")")
    }
}

extension RootKeyCommand.Rotate {
    func run(using api: AdminAPIClient) async throws {
        let path = "/v1/tenants/\(AdminAPIClient.segment(self.tenant))/root-key"
        var status: AdminRootKeyStatus = try await api.call(.POST, path + "/rotate")
        print(
            "rotated the root key of tenant \(status.tenant) to version \(status.currentVersion); \(status.keysOnOlderVersions ?? 0) keys to re-wrap"
        )
        guard self.wait else {
            print(
                "the running server re-wraps them in the background; 'keystorm root-key status --tenant \(status.tenant)' shows progress"
            )
            return
        }
        // The running server's re-wrap job does the work; wait for it (bounded).
        for _ in 0..<3000 {
            if (status.keysOnOlderVersions ?? 0) == 0 {
                print("every key of tenant \(status.tenant) is at version \(status.currentVersion)")
                return
            }
            try await Task.sleep(for: .milliseconds(200))
            status = try await api.call(.GET, path)
        }
        throw ControlError(
            .internalError,
            "the server has not re-wrapped every key of tenant \(status.tenant) after 10 minutes; see its log"
        )
    }
}

extension RootKeyCommand.Delete {
    func run(using api: AdminAPIClient) async throws {
        if !self.yes {
            print(
                "This destroys the root key of tenant '\(self.tenant)': every key of the tenant becomes unrecoverable."
            )
            print("Type the tenant id to confirm: ", terminator: "")
            fflush(nil)
            guard let answer = readLine(), answer.trimmingCharacters(in: .whitespaces) == self.tenant else {
                throw ControlError(.badRequest, "not confirmed; nothing was deleted (pass --yes to skip the question)")
            }
        }
        let tenant = AdminAPIClient.segment(self.tenant)
        let status: AdminRootKeyStatus = try await api.call(.DELETE, "/v1/tenants/\(tenant)/root-key?confirm=\(tenant)")
        print("deleted root key \(status.keyID) of tenant \(status.tenant): its keys are crypto-shredded")
    }
}
