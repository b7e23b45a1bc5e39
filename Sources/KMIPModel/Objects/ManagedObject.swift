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

public import KMIPCodec

/// A Symmetric Key object: one Key Block.
///
/// KMIP 1.4 §2.2.2, KMIP 2.1 §2.2.7
public struct SymmetricKey: KMIPStructure, Hashable, Sendable {
    public static let tag = TTLVTag.symmetricKey

    public var keyBlock: KeyBlock

    public init(keyBlock: KeyBlock) {
        self.keyBlock = keyBlock
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.keyBlock = try reader.decodeRequired(.keyBlock)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(self.keyBlock)
    }
}

/// A Secret Data object: a type (Password, Seed, ...) and a Key Block.
///
/// KMIP 1.4 §2.2.7, KMIP 2.1 §2.2.6
public struct SecretData: KMIPStructure, Hashable, Sendable {
    public static let tag = TTLVTag.secretData

    public var secretDataType: SecretDataType
    public var keyBlock: KeyBlock

    public init(secretDataType: SecretDataType, keyBlock: KeyBlock) {
        self.secretDataType = secretDataType
        self.keyBlock = keyBlock
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.secretDataType = try reader.required(try reader.enumeration(.secretDataType), .secretDataType)
        self.keyBlock = try reader.decodeRequired(.keyBlock)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.secretDataType, self.secretDataType)
        encoder.write(self.keyBlock)
    }
}

/// The object carried by Register and returned by Get.
///
/// Symmetric keys and secret data are typed; other object types (certificates, key pairs, opaque
/// objects, ...) are kept whole so they pass through unchanged.
public enum ManagedObject: Hashable, Sendable {
    case symmetricKey(SymmetricKey)
    case secretData(SecretData)
    /// Another object type, as its tagged structure.
    case other(TTLVItem)

    /// The tags under which objects appear in payloads (KMIP 1.4 §2.2, KMIP 2.1 §2.2).
    public static let objectTags: Set<TTLVTag> = [
        .certificate, .symmetricKey, .publicKey, .privateKey, .splitKey, .template, .secretData,
        .opaqueObject, .pgpKey, .certificateRequest,
    ]

    /// The key block, for the typed key objects.
    public var keyBlock: KeyBlock? {
        switch self {
        case .symmetricKey(let key): key.keyBlock
        case .secretData(let secret): secret.keyBlock
        case .other: nil
        }
    }

    func encode(to encoder: inout KMIPEncoder) {
        switch self {
        case .symmetricKey(let key): encoder.write(key)
        case .secretData(let secret): encoder.write(secret)
        case .other(let item): encoder.write(item)
        }
    }
}

extension KMIPStructureReader {
    /// Reads the object field of a Register request or Get response, whichever object tag it has.
    public mutating func managedObject() throws(TTLVError) -> ManagedObject? {
        if let index = try self.takeSingle(.symmetricKey) {
            return .symmetricKey(try self.decode(SymmetricKey.self, at: index))
        }
        if let index = try self.takeSingle(.secretData) {
            return .secretData(try self.decode(SecretData.self, at: index))
        }
        for tag in ManagedObject.objectTags.sorted() {
            if let item = try self.item(tag) { return .other(item) }
        }
        return nil
    }
}

extension KMIPEncoder {
    /// Writes an object when present.
    public mutating func write(_ object: ManagedObject?) {
        object?.encode(to: &self)
    }
}
