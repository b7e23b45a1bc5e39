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

/// The requests vCenter sends for its keys, as the load tool replays them.
///
/// `docs/KMIP-VMWARE.md` §1.3: Create (Symmetric Key, AES, 256 bits, usage Encrypt|Decrypt, no
/// name), then Get, Get Attributes(State), and Activate while the key is Pre-Active.
enum VCenterRequests {
    /// Create of an AES-256 key with Cryptographic Usage Mask Encrypt|Decrypt (12).
    static func createAES256() -> CreateRequest {
        CreateRequest(
            objectType: .symmetricKey,
            attributes: [
                Attribute(.cryptographicAlgorithm, .enumeration(CryptographicAlgorithm.aes.rawValue)),
                Attribute(.cryptographicUsageMask, .integer(12)),
                Attribute(.cryptographicLength, .integer(256)),
            ]
        )
    }

    static func get(_ uid: String) -> GetRequest {
        GetRequest(uniqueIdentifier: .text(uid))
    }

    static func activate(_ uid: String) -> ActivateRequest {
        ActivateRequest(uniqueIdentifier: .text(uid))
    }

    static func getState(_ uid: String) -> GetAttributesRequest {
        GetAttributesRequest(uniqueIdentifier: .text(uid), attributeNames: [.standard(.state)])
    }
}
