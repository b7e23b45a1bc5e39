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
import KMIPServer
import KeystormTestSupport
import Testing

/// A Create of an AES-256 key as vCenter sends it.
func aes256Create(name: String? = nil) -> CreateRequest {
    var attributes = [
        Attribute(.cryptographicAlgorithm, .enumeration(CryptographicAlgorithm.aes.rawValue)),
        Attribute(.cryptographicUsageMask, .integer(12)),
        Attribute(.cryptographicLength, .integer(256)),
    ]
    if let name {
        attributes.append(
            Attribute(.name, .structure([
                TTLVItem(.nameValue, .textString(name)),
                TTLVItem(.nameType, .enumeration(NameType.uninterpretedTextString.rawValue)),
            ]))
        )
    }
    return CreateRequest(objectType: .symmetricKey, attributes: attributes)
}

extension TestServer {
    /// Creates a key and returns its identifier.
    func createKey(name: String? = nil, version: ProtocolVersion = .v1_1, as client: ClientIdentity = TestServer.tenantA) async throws -> UniqueIdentifier {
        let item = try await self.call(aes256Create(name: name), version: version, as: client)
        guard case .create(let created)? = item.payload else {
            throw TestServerError(reason: "Create failed: \(item.resultReason?.name ?? "?") \(item.resultMessage ?? "")")
        }
        return created.uniqueIdentifier
    }
}

/// Expects a failed item with `reason`.
func expectFailure(_ item: ResponseBatchItem, _ reason: ResultReason, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(item.resultStatus == .operationFailed, sourceLocation: sourceLocation)
    #expect(item.resultReason == reason, "\(item.resultReason?.name ?? "none"): \(item.resultMessage ?? "")", sourceLocation: sourceLocation)
}
