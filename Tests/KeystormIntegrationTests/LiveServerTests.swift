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

import KMIPCodec
import KMIPModel
import KeystormTestSupport
import Testing

/// Tests of the live server: the built `keystorm` binary, started by ``LiveServer`` in a temporary
/// data directory, reached over mutual TLS by ``KMIPTLSClient`` (and PyKMIP). The suites run one
/// after another, so that at most one live server (two event loops) competes for the cores with
/// the rest of the test run; every wait in them is bounded.
@Suite("Live server", .serialized)
struct LiveServerTests {}

/// A Create of an AES-256 key as vCenter sends it.
func aes256Create(name: String? = nil) -> CreateRequest {
    var attributes = [
        Attribute(.cryptographicAlgorithm, .enumeration(CryptographicAlgorithm.aes.rawValue)),
        Attribute(.cryptographicUsageMask, .integer(12)),
        Attribute(.cryptographicLength, .integer(256)),
    ]
    if let name { attributes.append(nameAttribute(name)) }
    return CreateRequest(objectType: .symmetricKey, attributes: attributes)
}

func nameAttribute(_ name: String) -> Attribute {
    Attribute(
        .name,
        .structure([
            TTLVItem(.nameValue, .textString(name)),
            TTLVItem(.nameType, .enumeration(NameType.uninterpretedTextString.rawValue)),
        ])
    )
}

/// Expects a failed item with `reason`.
func expectFailure(
    _ item: ResponseBatchItem,
    _ reason: ResultReason,
    _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(item.resultStatus == .operationFailed, "\(what)", sourceLocation: sourceLocation)
    #expect(
        item.resultReason == reason,
        "\(what): \(item.resultReason?.name ?? "no reason"): \(item.resultMessage ?? "")",
        sourceLocation: sourceLocation
    )
}

extension KMIPTLSClient {
    /// Creates an AES-256 key and returns its identifier.
    func createKey(name: String? = nil) async throws -> UniqueIdentifier {
        let item = try await self.call(aes256Create(name: name))
        guard case .create(let created)? = item.payload else {
            throw LiveTestFailure("Create failed: \(item.resultReason?.name ?? "?") \(item.resultMessage ?? "")")
        }
        return created.uniqueIdentifier
    }

    /// The key material of a symmetric key, or `nil` with the failed item.
    func keyMaterial(_ uid: UniqueIdentifier) async throws -> (material: [UInt8]?, item: ResponseBatchItem) {
        let item = try await self.call(GetRequest(uniqueIdentifier: uid))
        guard case .get(let got)? = item.payload else { return (nil, item) }
        return (got.object.keyBlock?.keyMaterialBytes, item)
    }

    /// The State attribute of an object.
    func state(of uid: UniqueIdentifier) async throws -> State? {
        let item = try await self.call(GetAttributesRequest(uniqueIdentifier: uid, attributeNames: [.standard(.state)]))
        guard case .getAttributes(let payload)? = item.payload,
            case .enumeration(let raw)? = payload.attributes.first?.value
        else { return nil }
        return State(rawValue: raw)
    }
}
