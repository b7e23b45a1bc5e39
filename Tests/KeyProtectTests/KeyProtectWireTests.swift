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
import Testing

@testable import RootKeys

/// The provider's pure parts: AAD encoding, ciphertext handles, version numbering, back-off,
/// error mapping and the wrap body.
@Suite("Key Protect wire format")
struct KeyProtectWireTests {
    @Test("AAD becomes base64 in whole pieces of at most 255 characters")
    func aadChunks() throws {
        #expect(try KeyProtectCiphertext.aad([]) == nil)
        #expect(throws: RootKeyError(.invalidArgument, reason: "any")) {
            try KeyProtectCiphertext.aad([UInt8](repeating: 1, count: 48_196))
        }
        #expect(try KeyProtectCiphertext.aad([UInt8](repeating: 1, count: 48_195))?.count == 255)
        let small = try KeyProtectCiphertext.aad(Array("tenant-1/key-9".utf8))
        #expect(small == [Data("tenant-1/key-9".utf8).base64EncodedString()])

        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let pieces = try #require(try KeyProtectCiphertext.aad(bytes))
        #expect(pieces.count == 6)  // 1336 base64 characters
        #expect(pieces.allSatisfy { $0.count <= KeyProtectCiphertext.maxAADElementLength })
        #expect(pieces.dropLast().allSatisfy { $0.count % 4 == 0 })
        #expect(Data(base64Encoded: pieces.joined()).map(Array.init) == bytes)
        // Each piece decodes on its own.
        #expect(pieces.allSatisfy { Data(base64Encoded: $0) != nil })
    }

    @Test("The envelope's handle names the version")
    func handle() throws {
        let envelope =
            #"{"ciphertext":"AAAA","iv":"BBBB","version":"4.0.0","handle":"0b0e9c7a-1d2e-4f00-9e2b-6a0b4c3d2e1f"}"#
        let ciphertext = Data(envelope.utf8).base64EncodedString()
        #expect(KeyProtectCiphertext.handle(of: ciphertext) == "0b0e9c7a-1d2e-4f00-9e2b-6a0b4c3d2e1f")
        #expect(KeyProtectCiphertext.handle(of: "not base64 !") == nil)
        #expect(KeyProtectCiphertext.handle(of: Data("[]".utf8).base64EncodedString()) == nil)

        let wrapped = WrappedKey(ciphertext: Array(ciphertext.utf8), rootKeyVersion: 1)
        #expect(try KeyProtectCiphertext.text(of: wrapped) == ciphertext)
        #expect(throws: RootKeyError(.invalidCiphertext, reason: "any")) {
            try KeyProtectCiphertext.text(of: WrappedKey(ciphertext: [0x01, 0x02, 0xFF], rootKeyVersion: 1))
        }
        #expect(throws: RootKeyError(.invalidCiphertext, reason: "any")) {
            try KeyProtectCiphertext.text(of: WrappedKey(ciphertext: [], rootKeyVersion: 1))
        }
    }

    @Test("Versions are numbered oldest first")
    func versionTable() {
        let table = KeyProtectVersionTable(newestFirst: ["c", "b", "a"])
        #expect(table.number(of: "a") == 1)
        #expect(table.number(of: "b") == 2)
        #expect(table.number(of: "c") == 3)
        #expect(table.number(of: "d") == nil)
        #expect(table.current == 3)
        #expect(table.currentID == "c")
        let duplicated = KeyProtectVersionTable(newestFirst: ["b", "a", "a"])
        #expect(duplicated.number(of: "b") == 2)
        #expect(duplicated.current == 2)
        #expect(KeyProtectVersionTable(newestFirst: []).current == 0)
    }

    @Test("Back-off grows, honours Retry-After and stops at the retry count or the budget")
    func retryPolicy() {
        let policy = KeyProtectRetryPolicy(
            maxRetries: 4,
            budget: .seconds(30),
            baseDelay: .milliseconds(100),
            maxDelay: .seconds(1)
        )
        var random = SystemRandomNumberGenerator()
        for retry in 1...4 {
            let ceiling = min(Duration.milliseconds(100) * (1 << (retry - 1)), .seconds(1))
            let delay = policy.delay(beforeRetry: retry, retryAfter: nil, elapsed: .zero, using: &random)
            #expect(
                delay.map { $0 >= ceiling / 2 && $0 <= ceiling } == true,
                "retry \(retry): \(String(describing: delay))"
            )
        }
        #expect(policy.delay(beforeRetry: 5, retryAfter: nil, elapsed: .zero, using: &random) == nil)
        let afterServer = policy.delay(beforeRetry: 1, retryAfter: .seconds(2), elapsed: .zero, using: &random)
        #expect(afterServer.map { $0 >= .seconds(2) && $0 <= .seconds(3) } == true)
        #expect(policy.delay(beforeRetry: 1, retryAfter: .seconds(2), elapsed: .seconds(28), using: &random) == nil)
        #expect(policy.delay(beforeRetry: 2, retryAfter: nil, elapsed: .seconds(30), using: &random) == nil)

        #expect(KeyProtectRetryPolicy.isRetryable(status: 429))
        #expect(KeyProtectRetryPolicy.isRetryable(status: 500))
        #expect(KeyProtectRetryPolicy.isRetryable(status: 503))
        #expect(!KeyProtectRetryPolicy.isRetryable(status: 501))
        #expect(!KeyProtectRetryPolicy.isRetryable(status: 404))
        #expect(!KeyProtectRetryPolicy.isRetryable(status: 409))
        #expect(KeyProtectRetryPolicy.parseRetryAfter(" 3 ") == .seconds(3))
        #expect(KeyProtectRetryPolicy.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == nil)
        #expect(KeyProtectRetryPolicy.parseRetryAfter(nil) == nil)
    }

    @Test("Error envelopes map to RootKeyError codes and name the correlation-id")
    func errors() {
        func envelope(_ code: String, _ status: Int) -> [UInt8] {
            Array(
                #"{"metadata":{"collectionType":"application/vnd.ibm.kms.error+json","collectionTotal":1},"resources":[{"errorMsg":"Conflict","reasons":[{"code":"\#(code)","message":"m","status":\#(status),"moreInfo":"x"}]}]}"#
                    .utf8
            )
        }
        let cases: [(Int, String, RootKeyError.Code)] = [
            (404, "KEY_NOT_FOUND_ERR", .notFound),
            (410, "KEY_DELETED_ERR", .deleted),
            (409, "KEY_ACTION_INVALID_STATE_ERR", .disabled),
            (409, "KEY_ROTATION_NOT_PERMITTED", .unavailable),
            (422, "UNPROCESSABLE_CIPHERTEXT_ERR", .authenticationFailed),
            (422, "KEY_INVALID_STATE_ERR", .disabled),
            (422, "KEY_VERSION_INVALID", .invalidCiphertext),
            (401, "UNAUTHORIZED", .unauthorized),
            (403, "FORBIDDEN", .unauthorized),
            (429, "TOO_MANY_REQUESTS", .rateLimited),
            (503, "SERVICE_UNAVAILABLE", .unavailable),
            (400, "BAD_BODY_ERR", .invalidArgument),
        ]
        for (status, code, expected) in cases {
            let error = KeyProtectErrors.error(
                status: status,
                body: envelope(code, status),
                operation: "unwrap",
                rootKeyID: "k1",
                correlationID: "c-42"
            )
            #expect(error.code == expected, "\(status) \(code)")
            #expect(error.reason.contains(code))
            #expect(error.reason.contains("c-42"))
            #expect(error.reason.contains("k1"))
        }
        let unparsable = KeyProtectErrors.error(
            status: 502,
            body: Array("<html>".utf8),
            operation: "wrap",
            rootKeyID: nil,
            correlationID: "c"
        )
        #expect(unparsable.code == .unavailable)
    }

    @Test("Key Protect states map to Keystorm's")
    func states() {
        #expect(KeyProtectRootKeyService.state(keyProtectState: 1, deleted: false, status: 200) == .active)
        #expect(KeyProtectRootKeyService.state(keyProtectState: 3, deleted: false, status: 200) == .active)
        #expect(KeyProtectRootKeyService.state(keyProtectState: 2, deleted: false, status: 200) == .disabled)
        #expect(KeyProtectRootKeyService.state(keyProtectState: 0, deleted: nil, status: 200) == .disabled)
        #expect(KeyProtectRootKeyService.state(keyProtectState: 5, deleted: true, status: 200) == .deleted)
        #expect(KeyProtectRootKeyService.state(keyProtectState: nil, deleted: nil, status: 410) == .deleted)
    }

    @Test("The wrap body is JSON with the key in base64")
    func wrapBody() throws {
        for count in [1, 2, 3, 31, 32, 33, 4096] {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 5) }
            let aad = try KeyProtectCiphertext.aad(Array("t/u".utf8))
            let buffer = KeyProtectRootKeyService.wrapBody(SecretBytes(bytes), aad: aad)
            let json = try #require(
                try JSONSerialization.jsonObject(with: Data(buffer)) as? [String: Any]
            )
            #expect((json["plaintext"] as? String).flatMap { Data(base64Encoded: $0) }.map(Array.init) == bytes)
            #expect(json["aad"] as? [String] == aad)
        }
        let noAAD = KeyProtectRootKeyService.wrapBody(SecretBytes([1, 2, 3]), aad: nil)
        #expect(String(decoding: noAAD, as: UTF8.self) == #"{"plaintext":"AQID"}"#)
    }

    @Test("Key ids that would leave the path are refused")
    func keyPaths() throws {
        #expect(try KeyProtectRootKeyService.keyPath("0b0e9c7a-1d2e") == "/api/v2/keys/0b0e9c7a-1d2e")
        for bad in ["", "..", "a/b", "a?b", "a b", "%2e"] {
            #expect(throws: RootKeyError(.notFound, reason: "any")) { try KeyProtectRootKeyService.keyPath(bad) }
        }
    }

    @Test("The configuration's description hides the API key")
    func redaction() throws {
        let configuration = KeyProtectRootKeyService.Configuration(
            endpoint: "http://127.0.0.1:1",
            instanceID: "i",
            apiKey: "very-secret-api-key"
        )
        #expect(!configuration.description.contains("very-secret-api-key"))
        #expect(throws: RootKeyError(.invalidArgument, reason: "any")) {
            _ = try KeyProtectRootKeyService(
                configuration: .init(endpoint: "ftp://x", instanceID: "i", apiKey: "k")
            )
        }
    }
}
