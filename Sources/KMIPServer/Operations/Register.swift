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
import RootKeys

extension KMIPServerCore {
    /// Register: store a Symmetric Key (Raw or Transparent Symmetric Key), Secret Data, an Opaque
    /// Object, or a Private Key, Public Key or Certificate (kept as registered, see
    /// ``registerStoredObject(_:context:batch:)``) the client supplies; its material is wrapped
    /// under the tenant's root key like a created key's.
    ///
    /// KMIP 1.4 §4.3, KMIP 2.1 §6.1.40
    func register(_ request: RegisterRequest, context: RequestContext, batch: inout BatchState) async throws(KMIPError) -> RegisterResponse {
        if Self.storedObjectTypes.contains(request.objectType) {
            return try await self.registerStoredObject(request, context: context, batch: &batch)
        }
        // An object type Keystorm does not keep is refused as such, before its attributes are read.
        guard [.symmetricKey, .secretData, .opaqueObject].contains(request.objectType) else {
            throw KMIPError(.featureNotSupported, "Keystorm registers keys, certificates, Secret Data and Opaque Objects, not \(request.objectType.name)")
        }
        var attributes = try self.clientAttributes(request.attributes, context: context)
        if request.objectType == .opaqueObject {
            return try await self.registerOpaqueObject(request, attributes: attributes, context: context, batch: &batch)
        }
        let keyBlock: KeyBlock
        switch (request.objectType, request.object) {
        case (.symmetricKey, .symmetricKey(let key)):
            keyBlock = key.keyBlock
            guard keyBlock.keyFormatType == .raw || keyBlock.keyFormatType == .transparentSymmetricKey else {
                throw KMIPError(.keyFormatTypeNotSupported, "a Symmetric Key is registered in Raw or Transparent Symmetric Key format")
            }
        case (.secretData, .secretData(let secret)):
            keyBlock = secret.keyBlock
            attributes.append(Attribute(.secretDataType, .enumeration(secret.secretDataType.rawValue)))
        case (.symmetricKey, _), (.secretData, _):
            throw KMIPError(.invalidField, "the object does not match Object Type \(request.objectType.name)")
        default:
            throw KMIPError(.featureNotSupported, "Keystorm registers Symmetric Keys and Secret Data, not \(request.objectType.name)")
        }
        guard keyBlock.keyWrappingData == nil, case .plain = keyBlock.keyValue else {
            throw KMIPError(.featureNotSupported, "registering wrapped key material is not supported")
        }
        guard var bytes = keyBlock.keyMaterialBytes, !bytes.isEmpty else {
            throw KMIPError(.invalidField, "the Key Block holds no key material")
        }
        let material = SecretBytes(bytes)
        SecretBytes.wipe(&bytes)
        if request.objectType == .symmetricKey {
            for (tag, value) in [
                (TTLVTag.cryptographicAlgorithm, keyBlock.cryptographicAlgorithm.map { TTLVValue.enumeration($0.rawValue) }),
                (TTLVTag.cryptographicLength, TTLVValue.integer(keyBlock.cryptographicLength ?? Int32(material.count * 8))),
            ] where !attributes.contains(where: { $0.name == .standard(tag) }) {
                if let value { attributes.append(Attribute(tag, value)) }
            }
        }
        let uid = self.makeIdentifier()
        // The object keeps the format it was registered in: Get answers in it and the Digest is
        // computed over it (TC-18.1).
        let format = keyBlock.keyFormatType
        let record = try await self.newRecord(
            uid: uid,
            objectType: request.objectType,
            keyFormatType: format,
            material: material,
            clientAttributes: attributes,
            context: context
        )
        try await self.insert(record)
        batch.idPlaceholder = uid
        batch.lastIdentifier = uid
        return RegisterResponse(uniqueIdentifier: .text(uid))
    }

    /// An Opaque Object (OMOS-M-1, BL-M-5): its Opaque Data Type (4 bytes, big-endian) and Opaque
    /// Data Value are wrapped together; the Digest covers the value.
    ///
    /// KMIP 1.4 §2.2.8, KMIP 2.1 §2.2.8
    func registerOpaqueObject(
        _ request: RegisterRequest,
        attributes: [Attribute],
        context: RequestContext,
        batch: inout BatchState
    ) async throws(KMIPError) -> RegisterResponse {
        guard case .other(let item) = request.object, item.tag == .opaqueObject,
            case .enumeration(let type)? = item.child(.opaqueDataType)?.value,
            case .byteString(var value)? = item.child(.opaqueDataValue)?.value, !value.isEmpty
        else {
            throw KMIPError(.invalidField, "an Opaque Object needs an Opaque Data Type and a non-empty Opaque Data Value")
        }
        let typeBytes = [UInt8(type >> 24), UInt8((type >> 16) & 0xFF), UInt8((type >> 8) & 0xFF), UInt8(type & 0xFF)]
        let material = SecretBytes(typeBytes + value)
        let digest = try Self.digestAttribute(of: SecretBytes(value), keyFormatType: nil)
        SecretBytes.wipe(&value)
        let uid = self.makeIdentifier()
        let record = try await self.newRecord(
            uid: uid,
            objectType: .opaqueObject,
            keyFormatType: nil,
            material: material,
            clientAttributes: attributes + [digest],
            context: context
        )
        try await self.insert(record)
        batch.idPlaceholder = uid
        batch.lastIdentifier = uid
        return RegisterResponse(uniqueIdentifier: .text(uid))
    }
}
