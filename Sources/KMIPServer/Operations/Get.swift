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
import KeyStore
import RootKeys

extension KMIPServerCore {
    /// Get: the key, unwrapped from the tenant's root key, in the format asked for (Raw or
    /// Transparent Symmetric Key for symmetric keys). A destroyed key is gone: Item Not Found in 1.x
    /// (TC-3.1.4), Object Destroyed in 2.x.
    ///
    /// KMIP 1.4 §4.11, KMIP 2.1 §6.1.21
    func get(_ request: GetRequest, context: RequestContext, batch: inout BatchState) async throws(KMIPError) -> GetResponse {
        let record = try await self.target(request.uniqueIdentifier, context, &batch)
        if record.state == .destroyed || record.state == .destroyedCompromised || record.stored.wrappedKey == nil {
            if context.version.major >= 2 {
                throw KMIPError(.objectDestroyed, "object \(record.uniqueIdentifier) has been destroyed")
            }
            throw KMIPError.itemNotFound(record.uniqueIdentifier)
        }
        if request.keyWrappingSpecification != nil || request.keyWrapType != nil {
            throw KMIPError(.featureNotSupported, "Keystorm does not wrap keys on Get")
        }
        if let compression = request.keyCompressionType {
            throw KMIPError(.keyCompressionTypeNotSupported, "Key Compression Type \(compression.name) is not supported")
        }
        if record.objectType == .opaqueObject {
            return try await self.getOpaqueObject(record, request: request, context: context, batch: &batch)
        }
        if Self.storedObjectTypes.contains(record.objectType) {
            return try await self.getStoredObject(record, request: request, context: context, batch: &batch)
        }
        var storedFormat = KeyFormatType.raw
        if case .enumeration(let value)? = record.first(.standard(.keyFormatType))?.value {
            storedFormat = KeyFormatType(rawValue: value)
        }
        let format = request.keyFormatType ?? storedFormat
        let material = try await self.unwrap(record)
        let keyMaterial: KeyMaterial
        switch (record.objectType, format) {
        case (.symmetricKey, .raw):
            keyMaterial = .bytes(material.copyBytes())
        case (.symmetricKey, .transparentSymmetricKey):
            keyMaterial = .structure(TTLVItem(.keyMaterial, .structure([TTLVItem(.key, .byteString(material.copyBytes()))])))
        case (.secretData, storedFormat):
            keyMaterial = .bytes(material.copyBytes())
        default:
            throw KMIPError(.keyFormatTypeNotSupported, "Key Format Type \(format.name) is not available for this object")
        }
        var algorithm: CryptographicAlgorithm?
        var length: Int32?
        if case .enumeration(let value)? = record.first(.standard(.cryptographicAlgorithm))?.value {
            algorithm = CryptographicAlgorithm(rawValue: value)
        }
        if case .integer(let value)? = record.first(.standard(.cryptographicLength))?.value { length = value }
        let keyBlock = KeyBlock(
            keyFormatType: format,
            keyValue: .plain(PlainKeyValue(keyMaterial: keyMaterial)),
            cryptographicAlgorithm: record.objectType == .symmetricKey ? algorithm : nil,
            cryptographicLength: record.objectType == .symmetricKey ? length : nil
        )
        let object: ManagedObject
        if record.objectType == .secretData {
            var type = SecretDataType.password
            if case .enumeration(let value)? = record.first(.standard(.secretDataType))?.value { type = SecretDataType(rawValue: value) }
            object = .secretData(SecretData(secretDataType: type, keyBlock: keyBlock))
        } else {
            object = .symmetricKey(SymmetricKey(keyBlock: keyBlock))
        }
        await self.markServed(record, context)
        batch.idPlaceholder = record.uniqueIdentifier
        return GetResponse(objectType: record.objectType, uniqueIdentifier: .text(record.uniqueIdentifier), object: object)
    }

    /// Get of an Opaque Object: its Opaque Data Type and Value, as registered.
    func getOpaqueObject(_ record: ObjectRecord, request: GetRequest, context: RequestContext, batch: inout BatchState) async throws(KMIPError) -> GetResponse {
        if let format = request.keyFormatType {
            throw KMIPError(.keyFormatTypeNotSupported, "an Opaque Object has no Key Format Type \(format.name)")
        }
        var bytes = try await self.unwrap(record).copyBytes()
        defer { SecretBytes.wipe(&bytes) }
        guard bytes.count > 4 else { throw KMIPError(.generalFailure, "the stored Opaque Object \(record.uniqueIdentifier) is damaged") }
        let type = bytes[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let object = ManagedObject.other(TTLVItem(.opaqueObject, .structure([
            TTLVItem(.opaqueDataType, .enumeration(type)),
            TTLVItem(.opaqueDataValue, .byteString(Array(bytes[4...]))),
        ])))
        await self.markServed(record, context)
        batch.idPlaceholder = record.uniqueIdentifier
        return GetResponse(objectType: .opaqueObject, uniqueIdentifier: .text(record.uniqueIdentifier), object: object)
    }
}
