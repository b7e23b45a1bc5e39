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

/// A key, its format and, when wrapped, how it was wrapped.
///
/// > Key Block: Key Format Type, Key Compression Type, Key Value (Byte String when wrapped,
/// > otherwise a structure), Cryptographic Algorithm, Cryptographic Length, Key Wrapping Data.
///
/// KMIP 1.4 §2.1.3, KMIP 2.1 §2.1.3
public struct KeyBlock: KMIPStructure, Hashable, Sendable {
    public static let tag = TTLVTag.keyBlock

    public var keyFormatType: KeyFormatType
    public var keyCompressionType: KeyCompressionType?
    public var keyValue: KeyValue?
    public var cryptographicAlgorithm: CryptographicAlgorithm?
    public var cryptographicLength: Int32?
    /// Present when the key value is wrapped; kept whole.
    public var keyWrappingData: TTLVItem?
    public var unknownFields: [TTLVItem]

    public init(
        keyFormatType: KeyFormatType,
        keyValue: KeyValue?,
        cryptographicAlgorithm: CryptographicAlgorithm? = nil,
        cryptographicLength: Int32? = nil
    ) {
        self.keyFormatType = keyFormatType
        self.keyCompressionType = nil
        self.keyValue = keyValue
        self.cryptographicAlgorithm = cryptographicAlgorithm
        self.cryptographicLength = cryptographicLength
        self.keyWrappingData = nil
        self.unknownFields = []
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.keyFormatType = try reader.required(try reader.enumeration(.keyFormatType), .keyFormatType)
        self.keyCompressionType = try reader.enumeration(.keyCompressionType)
        if let index = try reader.takeSingle(.keyValue) {
            if reader.document.nodes[index].type == .byteString {
                self.keyValue = .wrapped(try reader.document.byteString(index))
            } else {
                self.keyValue = .plain(try reader.decode(PlainKeyValue.self, at: index))
            }
        } else {
            self.keyValue = nil
        }
        self.cryptographicAlgorithm = try reader.enumeration(.cryptographicAlgorithm)
        self.cryptographicLength = try reader.integer(.cryptographicLength)
        self.keyWrappingData = try reader.item(.keyWrappingData)
        self.unknownFields = try reader.unreadFields()
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.keyFormatType, self.keyFormatType)
        encoder.write(.keyCompressionType, self.keyCompressionType)
        switch self.keyValue {
        case .plain(let value): encoder.write(.keyValue, value)
        case .wrapped(let bytes): encoder.write(.keyValue, bytes: bytes)
        case nil: break
        }
        encoder.write(.cryptographicAlgorithm, self.cryptographicAlgorithm)
        encoder.write(.cryptographicLength, integer: self.cryptographicLength)
        encoder.write(self.keyWrappingData)
        encoder.write(self.unknownFields)
    }

    /// The raw key bytes of an unwrapped Raw, Opaque or Transparent Symmetric Key block.
    public var keyMaterialBytes: [UInt8]? {
        guard case .plain(let value) = self.keyValue else { return nil }
        switch value.keyMaterial {
        case .bytes(let bytes): return bytes
        case .structure(let item):
            if case .byteString(let key)? = item.child(.key)?.value { return key }
            return nil
        }
    }
}

/// The Key Value of a key block: a structure when in the clear, a Byte String when wrapped.
public enum KeyValue: Hashable, Sendable {
    case plain(PlainKeyValue)
    case wrapped([UInt8])
}

/// An unwrapped Key Value: the key material and, in 1.x, attributes carried with it.
///
/// KMIP 1.4 §2.1.4 (Key Value: Key Material, Attribute*), KMIP 2.1 §2.1.4 (Key Material, Attributes)
public struct PlainKeyValue: KMIPDecodable, KMIPEncodable, Hashable, Sendable {
    public var keyMaterial: KeyMaterial
    /// 1.x Attribute* / 2.x Attributes inside the key value; empty in what Keystorm sends.
    public var attributes: [Attribute]
    private var hasAttributesStructure: Bool

    public init(keyMaterial: KeyMaterial, attributes: [Attribute] = []) {
        self.keyMaterial = keyMaterial
        self.attributes = attributes
        self.hasAttributesStructure = !attributes.isEmpty
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        let index = try reader.require(.keyMaterial)
        switch reader.document.nodes[index].type {
        case .byteString: self.keyMaterial = .bytes(try reader.document.byteString(index))
        default: self.keyMaterial = .structure(try TTLVItem(document: reader.document, index: index))
        }
        if let tagged = try reader.taggedAttributes(.attributes) {
            self.attributes = tagged
            self.hasAttributesStructure = true
        } else {
            self.attributes = try reader.namedAttributes()
            self.hasAttributesStructure = false
        }
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        switch self.keyMaterial {
        case .bytes(let bytes): encoder.write(.keyMaterial, bytes: bytes)
        case .structure(let item): encoder.write(item)
        }
        if encoder.version.usesTaggedAttributes {
            if self.hasAttributesStructure || !self.attributes.isEmpty { encoder.writeTagged(.attributes, self.attributes) }
        } else {
            encoder.write(.attribute, all: self.attributes)
        }
    }
}

/// Key material: a Byte String (Raw, Opaque, PKCS#…) or a structure (Transparent formats).
///
/// Its descriptions never show the bytes.
public enum KeyMaterial: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    case bytes([UInt8])
    case structure(TTLVItem)

    public var description: String {
        switch self {
        case .bytes(let bytes): "KeyMaterial(\(bytes.count) bytes, redacted)"
        case .structure: "KeyMaterial(structure, redacted)"
        }
    }

    public var debugDescription: String { self.description }
}
