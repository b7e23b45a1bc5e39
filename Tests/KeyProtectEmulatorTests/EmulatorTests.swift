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
import KeystormTestSupport
import Testing

/// A Key Protect client of the tests: plain HTTP through ``PlainHTTPClient``.
struct KPTestClient {
    let emulator: KeyProtectEmulatorProcess
    var token: String

    static func connect(
        _ emulator: KeyProtectEmulatorProcess,
        apiKey: String = "test-api-key"
    ) async throws
        -> KPTestClient
    {
        KPTestClient(emulator: emulator, token: try await emulator.token(apiKey: apiKey))
    }

    func call(
        _ method: String,
        _ path: String,
        json: [String: Any]? = nil,
        instance: String? = nil,
        headers extra: [String: String] = [:]
    ) async throws -> PlainHTTPClient.Response {
        var headers = [
            "authorization": "Bearer \(self.token)",
            "bluemix-instance": instance ?? self.emulator.instanceID,
            "accept": "application/json",
        ]
        headers.merge(extra) { $1 }
        let url = self.emulator.baseURL + path
        if let json {
            headers["content-type"] = "application/vnd.ibm.kms.key_action+json"
            return try await PlainHTTPClient.request(method, url, headers: headers, json: json)
        }
        return try await PlainHTTPClient.request(method, url, headers: headers)
    }

    /// Creates a root key and returns its resource.
    func createKey(_ name: String = "vmware-root") async throws -> [String: Any] {
        let response = try await self.call(
            "POST",
            "/api/v2/keys",
            json: [
                "metadata": ["collectionType": "application/vnd.ibm.kms.key+json", "collectionTotal": 1],
                "resources": [["type": "application/vnd.ibm.kms.key+json", "name": name, "extractable": false]],
            ]
        )
        try #require(response.status == 201, "create: \(response.status) \(response.text)")
        let resources = try #require(response.json?["resources"] as? [[String: Any]])
        return try #require(resources.first)
    }

    func key(_ id: String) async throws -> [String: Any] {
        let response = try await self.call("GET", "/api/v2/keys/\(id)")
        try #require(response.status == 200, "get: \(response.status) \(response.text)")
        return try #require((response.json?["resources"] as? [[String: Any]])?.first)
    }

    func wrap(_ id: String, _ plaintext: Data?, aad: [String]? = nil) async throws -> PlainHTTPClient.Response {
        var body: [String: Any] = [:]
        if let plaintext { body["plaintext"] = plaintext.base64EncodedString() }
        if let aad { body["aad"] = aad }
        return try await self.call("POST", "/api/v2/keys/\(id)/actions/wrap", json: body)
    }

    func unwrap(
        _ id: String,
        _ ciphertext: String,
        aad: [String]? = nil,
        action: String = "unwrap"
    ) async throws
        -> PlainHTTPClient.Response
    {
        var body: [String: Any] = ["ciphertext": ciphertext]
        if let aad { body["aad"] = aad }
        return try await self.call("POST", "/api/v2/keys/\(id)/actions/\(action)", json: body)
    }
}

/// The first reason code of a KP error envelope.
func reasonCode(_ response: PlainHTTPClient.Response) -> String? {
    let resources = response.json?["resources"] as? [[String: Any]]
    let reasons = resources?.first?["reasons"] as? [[String: Any]]
    return reasons?.first?["code"] as? String
}

func versionID(_ value: Any?) -> String? {
    (value as? [String: Any])?["id"] as? String
}

@Suite("KeyProtectEmulator over HTTP")
struct KeyProtectEmulatorTests {
    @Test("IAM issues tokens for accepted keys only, and a token expires after its TTL")
    func tokens() async throws {
        try await KeyProtectEmulatorProcess.with(.init(apiKeys: ["good-key"], tokenTTL: 2)) { emulator in
            let form = "grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey="
            let refused = try await PlainHTTPClient.request(
                "POST",
                emulator.baseURL + "/identity/token",
                headers: ["content-type": "application/x-www-form-urlencoded"],
                body: Data((form + "bad-key").utf8)
            )
            #expect(refused.status == 400)
            #expect(refused.json?["errorCode"] as? String == "BXNIM0415E")

            let issued = try await PlainHTTPClient.request(
                "POST",
                emulator.baseURL + "/identity/token",
                headers: ["content-type": "application/x-www-form-urlencoded"],
                body: Data((form + "good-key").utf8)
            )
            #expect(issued.status == 200)
            let json = try #require(issued.json)
            #expect(json["token_type"] as? String == "Bearer")
            #expect(json["expires_in"] as? Int == 2)
            #expect(json["refresh_token"] as? String == "not_supported")
            let expiration = try #require(json["expiration"] as? Int)
            #expect(abs(expiration - Int(Date().timeIntervalSince1970) - 2) <= 2)

            let client = KPTestClient(emulator: emulator, token: try #require(json["access_token"] as? String))
            #expect(try await client.call("GET", "/api/v2/keys").status == 200)
            let forged = KPTestClient(emulator: emulator, token: client.token + "x")
            let forgedResponse = try await forged.call("GET", "/api/v2/keys")
            #expect(forgedResponse.status == 401)
            #expect(reasonCode(forgedResponse) == "UNAUTHORIZED_ERR")
            #expect(try await client.call("GET", "/api/v2/keys", instance: "other-instance").status == 401)

            // Wait past the expiry (not a timing assertion: the token must be refused afterwards).
            try await Task.sleep(for: .seconds(3))
            #expect(try await client.call("GET", "/api/v2/keys").status == 401)
            let stats = try await emulator.stats()
            #expect(stats.calls("token") == 2)
        }
    }

    @Test("create, get and versions; correlation-id is echoed")
    func createGetVersions() async throws {
        try await KeyProtectEmulatorProcess.with { emulator in
            let client = try await KPTestClient.connect(emulator)
            let key = try await client.createKey("disk-root")
            let id = try #require(key["id"] as? String)
            #expect(key["state"] as? Int == 1)
            #expect(key["name"] as? String == "disk-root")
            #expect(key["deleted"] as? Bool == false)
            #expect(key["extractable"] as? Bool == false)
            #expect((key["crn"] as? String)?.hasSuffix(":\(emulator.instanceID):key:\(id)") == true)
            let version = try #require(versionID(key["keyVersion"]))

            let response = try await client.call("GET", "/api/v2/keys/\(id)", headers: ["correlation-id": "abc-123"])
            #expect(response.status == 200)
            #expect(response.headers["correlation-id"] == "abc-123")
            let fetched = try await client.key(id)
            #expect(fetched["id"] as? String == id)
            #expect(versionID(fetched["keyVersion"]) == version)

            let versions = try await client.call("GET", "/api/v2/keys/\(id)/versions")
            #expect(versions.status == 200)
            let list = try #require(versions.json?["resources"] as? [[String: Any]])
            #expect(list.map { $0["id"] as? String } == [version])

            let missing = try await client.call("GET", "/api/v2/keys/\(UUID().uuidString.lowercased())")
            #expect(missing.status == 404)
            #expect(reasonCode(missing) == "KEY_NOT_FOUND_ERR")
        }
    }

    @Test("wrap/unwrap round trip with AAD; a wrong AAD is 422; a generated DEK comes back")
    func wrapUnwrap() async throws {
        try await KeyProtectEmulatorProcess.with { emulator in
            let client = try await KPTestClient.connect(emulator)
            let id = try #require(try await client.createKey()["id"] as? String)
            let dek = Data((0..<32).map { UInt8($0) })
            let wrapped = try await client.wrap(id, dek, aad: ["tenant-a", "key-1"])
            #expect(wrapped.status == 200)
            let ciphertext = try #require(wrapped.json?["ciphertext"] as? String)
            #expect(wrapped.json?["plaintext"] == nil)

            // The documented envelope: base64 of JSON {ciphertext, iv, version, handle}.
            let envelopeJSON = try #require(Data(base64Encoded: ciphertext))
            let envelope = try #require(try JSONSerialization.jsonObject(with: envelopeJSON) as? [String: Any])
            #expect(envelope["version"] as? String == "4.0.0")
            #expect(envelope["handle"] as? String == versionID(wrapped.json?["keyVersion"]))
            #expect(Data(base64Encoded: envelope["iv"] as? String ?? "")?.count == 12)
            #expect(Data(base64Encoded: envelope["ciphertext"] as? String ?? "")?.count == 32 + 16)

            let unwrapped = try await client.unwrap(id, ciphertext, aad: ["tenant-a", "key-1"])
            #expect(unwrapped.status == 200)
            #expect(unwrapped.json?["plaintext"] as? String == dek.base64EncodedString())
            #expect(unwrapped.json?["ciphertext"] == nil)
            #expect(unwrapped.json?["rewrappedKeyVersion"] == nil)

            let wrongAAD = try await client.unwrap(id, ciphertext, aad: ["tenant-b", "key-1"])
            #expect(wrongAAD.status == 422)
            #expect(reasonCode(wrongAAD) == "UNPROCESSABLE_CIPHERTEXT_ERR")
            #expect(try await client.unwrap(id, ciphertext).status == 422)
            #expect(try await client.unwrap(id, "bm90IGEgY2lwaGVydGV4dA==").status == 422)

            // Another key cannot open it.
            let other = try #require(try await client.createKey("other")["id"] as? String)
            #expect(try await client.unwrap(other, ciphertext, aad: ["tenant-a", "key-1"]).status == 422)

            let generated = try await client.wrap(id, nil)
            #expect(generated.status == 200)
            let plaintext = try #require(generated.json?["plaintext"] as? String)
            #expect(Data(base64Encoded: plaintext)?.count == 32)
            let back = try await client.unwrap(id, try #require(generated.json?["ciphertext"] as? String))
            #expect(back.json?["plaintext"] as? String == plaintext)

            #expect(try await client.wrap(id, Data(count: 4097)).status == 400)
            #expect(
                try await client.call("POST", "/api/v2/keys/\(id)/actions/wrap", json: ["plaintext": ""]).status == 400
            )
        }
    }

    @Test("rotate: an old ciphertext unwraps and comes back rewrapped; rewrap moves it to the new version")
    func rotateAndRewrap() async throws {
        try await KeyProtectEmulatorProcess.with { emulator in
            let client = try await KPTestClient.connect(emulator)
            let key = try await client.createKey()
            let id = try #require(key["id"] as? String)
            let first = try #require(versionID(key["keyVersion"]))
            let dek = Data(repeating: 0x5a, count: 32)
            let old = try #require(try await client.wrap(id, dek, aad: ["a"]).json?["ciphertext"] as? String)

            let rotated = try await client.call("POST", "/api/v2/keys/\(id)/actions/rotate")
            #expect(rotated.status == 204)
            let second = try #require(versionID(try await client.key(id)["keyVersion"]))
            #expect(second != first)
            let versions = try await client.call("GET", "/api/v2/keys/\(id)/versions")
            let ids = (versions.json?["resources"] as? [[String: Any]])?.map { $0["id"] as? String }
            #expect(ids == [second, first])

            let unwrapped = try await client.unwrap(id, old, aad: ["a"])
            #expect(unwrapped.status == 200)
            #expect(unwrapped.json?["plaintext"] as? String == dek.base64EncodedString())
            #expect(versionID(unwrapped.json?["keyVersion"]) == first)
            #expect(versionID(unwrapped.json?["rewrappedKeyVersion"]) == second)
            let fresh = try #require(unwrapped.json?["ciphertext"] as? String)
            let again = try await client.unwrap(id, fresh, aad: ["a"])
            #expect(again.json?["plaintext"] as? String == dek.base64EncodedString())
            #expect(versionID(again.json?["keyVersion"]) == second)
            #expect(again.json?["ciphertext"] == nil)

            let rewrapped = try await client.unwrap(id, old, aad: ["a"], action: "rewrap")
            #expect(rewrapped.status == 200)
            #expect(rewrapped.json?["plaintext"] == nil)
            #expect(versionID(rewrapped.json?["keyVersion"]) == first)
            #expect(versionID(rewrapped.json?["rewrappedKeyVersion"]) == second)
            let moved = try #require(rewrapped.json?["ciphertext"] as? String)
            #expect(
                try await client.unwrap(id, moved, aad: ["a"]).json?["plaintext"] as? String
                    == dek.base64EncodedString()
            )
        }
    }

    @Test("disable makes key actions 409 until enable; delete makes them 410 and the key state 5")
    func lifecycle() async throws {
        try await KeyProtectEmulatorProcess.with { emulator in
            let client = try await KPTestClient.connect(emulator)
            let id = try #require(try await client.createKey()["id"] as? String)
            let ciphertext = try #require(try await client.wrap(id, Data([1, 2, 3])).json?["ciphertext"] as? String)

            #expect(try await client.call("POST", "/api/v2/keys/\(id)/actions/disable").status == 204)
            #expect(try await client.key(id)["state"] as? Int == 2)
            let refused = try await client.unwrap(id, ciphertext)
            #expect(refused.status == 409)
            #expect(reasonCode(refused) == "KEY_ACTION_INVALID_STATE_ERR")
            #expect(try await client.wrap(id, Data([1])).status == 409)
            #expect(try await client.call("POST", "/api/v2/keys/\(id)/actions/enable").status == 204)
            #expect(try await client.unwrap(id, ciphertext).status == 200)

            let deleted = try await client.call("DELETE", "/api/v2/keys/\(id)")
            #expect(deleted.status == 200)
            let resource = (deleted.json?["resources"] as? [[String: Any]])?.first
            #expect(resource?["state"] as? Int == 5)
            #expect(resource?["deleted"] as? Bool == true)
            for response in [
                try await client.unwrap(id, ciphertext),
                try await client.wrap(id, Data([1])),
                try await client.unwrap(id, ciphertext, action: "rewrap"),
                try await client.call("POST", "/api/v2/keys/\(id)/actions/rotate"),
                try await client.call("DELETE", "/api/v2/keys/\(id)"),
            ] {
                #expect(response.status == 410)
                #expect(reasonCode(response) == "KEY_DELETED_ERR")
            }
            let fetched = try await client.key(id)
            #expect(fetched["state"] as? Int == 5)
            #expect(fetched["deleted"] as? Bool == true)
            let listed = try await client.call("GET", "/api/v2/keys")
            let ids = (listed.json?["resources"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == [])
        }
    }

    @Test("--rate-limit answers 429 with Retry-After beyond the burst; stats count them")
    func rateLimit() async throws {
        let options = KeyProtectEmulatorProcess.Options(faults: .init(rateLimit: 3, retryAfterSeconds: 7))
        try await KeyProtectEmulatorProcess.with(options) { emulator in
            let client = try await KPTestClient.connect(emulator)
            let id = try #require(try await client.createKey()["id"] as? String)
            try await emulator.resetStats()
            // The bucket holds 3 and refills 3/s: 30 concurrent wraps cannot all pass.
            let responses = try await withThrowingTaskGroup(of: PlainHTTPClient.Response.self) { group in
                for _ in 0..<30 {
                    group.addTask { try await client.wrap(id, Data([7])) }
                }
                return try await group.reduce(into: [PlainHTTPClient.Response]()) { $0.append($1) }
            }
            let statuses = responses.map(\.status)
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 429 })
            #expect(statuses.filter { $0 == 200 }.count >= 3)
            #expect(statuses.contains(429))
            for response in responses where response.status == 429 {
                #expect(response.headers["retry-after"] == "7")
                #expect(reasonCode(response) == "TOO_MANY_REQUESTS")
            }
            // Non-key-action calls are not limited.
            #expect(try await client.call("GET", "/api/v2/keys/\(id)").status == 200)
            let stats = try await emulator.stats()
            #expect(stats.calls("wrap") == 30)
            #expect(stats.status429 == statuses.filter { $0 == 429 }.count)
        }
    }

    @Test("an outage answers 503 to IAM and /api/v2 until /admin/faults lifts it; error rate 1 is 503")
    func outage() async throws {
        try await KeyProtectEmulatorProcess.with { emulator in
            let client = try await KPTestClient.connect(emulator)
            let id = try #require(try await client.createKey()["id"] as? String)
            var faults = try await emulator.faults()
            #expect(faults == .init())
            faults.outage = true
            #expect(try await emulator.setFaults(faults).outage)
            let down = try await client.wrap(id, Data([1]))
            #expect(down.status == 503)
            #expect(reasonCode(down) == "SERVICE_UNAVAILABLE")
            await #expect(throws: (any Error).self) { try await emulator.token(apiKey: "k") }

            faults.outage = false
            try await emulator.setFaults(faults)
            #expect(try await client.wrap(id, Data([1])).status == 200)

            // A partial PUT changes only the fields it names.
            let partial = try await PlainHTTPClient.request(
                "PUT",
                emulator.adminURL + "/admin/faults",
                json: ["errorRate": 1.0]
            )
            #expect(partial.status == 200)
            #expect(try await emulator.faults() == .init(errorRate: 1))
            #expect(try await client.call("GET", "/api/v2/keys/\(id)").status == 503)
            try await emulator.setFaults(.init())
            #expect(try await client.call("GET", "/api/v2/keys/\(id)").status == 200)
            let stats = try await emulator.stats()
            #expect(stats.status5xx == 3)
            #expect(stats.inFlightMax >= 1)
        }
    }

    @Test("latency is added with Task.sleep: concurrent calls overlap instead of queueing")
    func latencyOverlaps() async throws {
        let options = KeyProtectEmulatorProcess.Options(faults: .init(latencyMs: 300))
        try await KeyProtectEmulatorProcess.with(options) { emulator in
            let client = try await KPTestClient.connect(emulator)
            let id = try #require(try await client.createKey()["id"] as? String)
            let ciphertext = try #require(try await client.wrap(id, Data([9])).json?["ciphertext"] as? String)
            try await emulator.resetStats()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<32 {
                    group.addTask { try await client.unwrap(id, ciphertext).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 32))
            let stats = try await emulator.stats()
            #expect(stats.calls("unwrap") == 32)
            // Each call sleeps 300 ms while the others are served.
            #expect(stats.inFlightMax > 1)
        }
    }

    @Test("keys, versions and states survive a restart, and so do tokens; the state file is 0600")
    func persistence() async throws {
        try await KeyProtectEmulatorProcess.with { emulator in
            let client = try await KPTestClient.connect(emulator)
            let id = try #require(try await client.createKey()["id"] as? String)
            let old = try #require(try await client.wrap(id, Data([4, 2]), aad: ["x"]).json?["ciphertext"] as? String)
            #expect(try await client.call("POST", "/api/v2/keys/\(id)/actions/rotate").status == 204)
            let disabled = try #require(try await client.createKey("disabled")["id"] as? String)
            #expect(try await client.call("POST", "/api/v2/keys/\(disabled)/actions/disable").status == 204)
            let deleted = try #require(try await client.createKey("deleted")["id"] as? String)
            #expect(try await client.call("DELETE", "/api/v2/keys/\(deleted)").status == 200)
            let before = try await client.key(id)

            let attributes = try FileManager.default.attributesOfItem(atPath: emulator.stateFile)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

            try await emulator.restart()
            let after = try await client.key(id)
            #expect(versionID(after["keyVersion"]) == versionID(before["keyVersion"]))
            let unwrapped = try await client.unwrap(id, old, aad: ["x"])
            #expect(unwrapped.status == 200)
            #expect(unwrapped.json?["plaintext"] as? String == Data([4, 2]).base64EncodedString())
            #expect(unwrapped.json?["rewrappedKeyVersion"] != nil)
            #expect(try await client.key(disabled)["state"] as? Int == 2)
            #expect(try await client.key(deleted)["state"] as? Int == 5)
            let versions = try await client.call("GET", "/api/v2/keys/\(id)/versions")
            #expect((versions.json?["resources"] as? [[String: Any]])?.count == 2)
        }
    }
}

/// The `openssl` binary on PATH, if any (CI installs it).
private let opensslPath: String? = ChildProcess.onPath("openssl")

/// Runs `executable arguments` with `input` on standard input; output and error together.
private func run(_ executable: String, _ arguments: [String], input: String = "") async throws -> (Int32, String) {
    let result = try await ChildProcess.run(
        executable,
        arguments,
        input: .bytes(Array(input.utf8)),
        timeout: .seconds(60)
    )
    return (result.status, result.output)
}

@Suite("KeyProtectEmulator over HTTPS")
struct KeyProtectEmulatorTLSTests {
    @Test(
        "--tls-cert/--tls-key serve HTTPS (checked with openssl s_client); admin on the plain listener",
        .enabled(if: opensslPath != nil, "skipped: openssl not on PATH")
    )
    func https() async throws {
        let openssl = try #require(opensslPath)
        let directory = NSTemporaryDirectory() + "kpemu-tls-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (status, output) = try await run(
            openssl,
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem", "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            ]
        )
        try #require(status == 0, "openssl req: \(output)")
        let options = KeyProtectEmulatorProcess.Options(
            apiKeys: ["tls-key"],
            tls: .init(certificate: directory + "/cert.pem", key: directory + "/key.pem")
        )
        try await KeyProtectEmulatorProcess.with(options) { emulator in
            #expect(emulator.baseURL.hasPrefix("https://127.0.0.1:"))
            #expect(emulator.adminURL.hasPrefix("http://127.0.0.1:"))
            #expect(emulator.adminURL != emulator.baseURL.replacingOccurrences(of: "https", with: "http"))
            try await emulator.resetStats()

            let form = "grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=tls-key"
            let request =
                "POST /identity/token HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n"
                + "content-type: application/x-www-form-urlencoded\r\ncontent-length: \(form.utf8.count)\r\n\r\n" + form
            let (exit, response) = try await run(
                openssl,
                [
                    "s_client", "-connect", "127.0.0.1:\(emulator.port)", "-CAfile", directory + "/cert.pem",
                    "-verify_return_error", "-quiet",
                ],
                input: request
            )
            #expect(exit == 0, "\(response)")
            #expect(response.contains("HTTP/1.1 200"))
            #expect(response.contains("\"access_token\""))
            #expect(try await emulator.stats().calls("token") == 1)

            // Plain HTTP to the TLS port gets no HTTP response.
            await #expect(throws: (any Error).self) {
                try await PlainHTTPClient.request("GET", "http://127.0.0.1:\(emulator.port)/admin/stats")
            }
        }
    }
}
