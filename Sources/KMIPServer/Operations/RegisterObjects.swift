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
    /// The object types Keystorm keeps as stored objects only: it performs no cryptography with
    /// them, it registers them and returns them exactly as registered.
    static let storedObjectTypes: Set<ObjectType> = [.privateKey, .publicKey, .certificate]

    /// Register of a Private Key, Public Key or Certificate (BL-M-6 to BL-M-13): the whole object
    /// structure is TTLV-encoded and wrapped under the tenant's root key like key material.
    ///
    /// A key keeps its Key Format Type, Cryptographic Algorithm and Cryptographic Length; a
    /// certificate gets its Certificate Type, Certificate Length, Digest and, for X.509, its
    /// subject's Common Name.
    ///
    /// KMIP 2.1 §2.2.1 (Certificate), §2.2.4 (Private Key), §2.2.5 (Public Key), §6.1.40
    func registerStoredObject(
        _ request: RegisterRequest,
        context: RequestContext,
        batch: inout BatchState
    ) async throws(KMIPError) -> RegisterResponse {
        let expectedTag: TTLVTag =
            switch request.objectType {
            case .privateKey: .privateKey
            case .publicKey: .publicKey
            default: .certificate
            }
        guard case .other(let item) = request.object, item.tag == expectedTag else {
            throw KMIPError(.invalidField, "the object does not match Object Type \(request.objectType.name)")
        }
        var supplied = request.attributes
        var serverAttributes: [Attribute] = []
        var keyFormatType: KeyFormatType?
        let digestAttribute: Attribute
        if request.objectType == .certificate {
            guard case .enumeration(let type)? = item.child(.certificateType)?.value,
                case .byteString(let value)? = item.child(.certificateValue)?.value, !value.isEmpty
            else {
                throw KMIPError(
                    .invalidField,
                    "a Certificate needs a Certificate Type and a non-empty Certificate Value"
                )
            }
            // The client may repeat the object's Certificate Type among the attributes (BL-M-10);
            // any other value contradicts the object.
            if let given = supplied.first(where: { $0.name == .standard(.certificateType) }) {
                guard given.value == .enumeration(type) else {
                    throw KMIPError(.invalidField, "the Certificate Type attribute does not match the certificate")
                }
                supplied.removeAll { $0.name == .standard(.certificateType) }
            }
            serverAttributes.append(Attribute(.certificateType, .enumeration(type)))
            serverAttributes.append(Attribute(.certificateLength, .integer(Int32(clamping: value.count))))
            if CertificateType(rawValue: type) == .x509, let commonName = Self.x509SubjectCommonName(value) {
                serverAttributes.append(Attribute(.certificateSubjectCN, .textString(commonName)))
            }
            digestAttribute = try Self.digestAttribute(of: SecretBytes(value), keyFormatType: nil)
        } else {
            guard case .structure(let fields)? = item.child(.keyBlock).map(\.value),
                case .enumeration(let format)? = fields.first(where: { $0.tag == .keyFormatType })?.value
            else {
                throw KMIPError(.invalidField, "a \(request.objectType.name) needs a Key Block with a Key Format Type")
            }
            guard !fields.contains(where: { $0.tag == .keyWrappingData }),
                case .structure(let valueFields)? = fields.first(where: { $0.tag == .keyValue })?.value
            else {
                throw KMIPError(.featureNotSupported, "registering wrapped key material is not supported")
            }
            guard let keyMaterial = valueFields.first(where: { $0.tag == .keyMaterial }) else {
                throw KMIPError(.invalidField, "the Key Block holds no key material")
            }
            keyFormatType = KeyFormatType(rawValue: format)
            for tag in [TTLVTag.cryptographicAlgorithm, .cryptographicLength]
            where !supplied.contains(where: { $0.name == .standard(tag) }) {
                if let field = fields.first(where: { $0.tag == tag }) {
                    serverAttributes.append(Attribute(tag, field.value))
                }
            }
            // The Digest covers the Key Material in the registered format: the bytes, or the
            // encoded Key Material structure of a Transparent format (as for TC-18.1).
            var encoded: [UInt8]
            if case .byteString(let bytes) = keyMaterial.value {
                encoded = bytes
            } else {
                encoded = keyMaterial.encoded()
            }
            digestAttribute = try Self.digestAttribute(of: SecretBytes(encoded), keyFormatType: keyFormatType)
            SecretBytes.wipe(&encoded)
        }
        let attributes = try self.clientAttributes(supplied, context: context) + serverAttributes
        var bytes = item.encoded()
        let material = SecretBytes(bytes)
        SecretBytes.wipe(&bytes)
        let uid = self.makeIdentifier()
        var record = try await self.newRecord(
            uid: uid,
            objectType: request.objectType,
            keyFormatType: keyFormatType,
            material: material,
            clientAttributes: keyFormatType == nil ? attributes + [digestAttribute] : attributes,
            context: context
        )
        // newRecord digests the material it wraps, here the whole object: replace it.
        if keyFormatType != nil { record.set(.digest, digestAttribute.value) }
        try await self.insert(record)
        batch.idPlaceholder = uid
        batch.lastIdentifier = uid
        return RegisterResponse(uniqueIdentifier: .text(uid))
    }

    /// Get of a Private Key, Public Key or Certificate: the object exactly as registered. Keystorm
    /// converts no formats (a different Key Format Type is Key Format Type Not Supported) and wraps
    /// nothing, so a Sensitive object is refused with Sensitive (BL-M-12).
    ///
    /// KMIP 2.1 §6.1.21
    func getStoredObject(
        _ record: ObjectRecord,
        request: GetRequest,
        context: RequestContext,
        batch: inout BatchState
    ) async throws(KMIPError) -> GetResponse {
        if case .boolean(true)? = record.first(.standard(.sensitive))?.value {
            throw KMIPError(
                .sensitive,
                "object \(record.uniqueIdentifier) is Sensitive and Keystorm does not wrap objects on Get"
            )
        }
        if let format = request.keyFormatType {
            var stored: KeyFormatType?
            if case .enumeration(let value)? = record.first(.standard(.keyFormatType))?.value {
                stored = KeyFormatType(rawValue: value)
            }
            guard format == stored else {
                throw KMIPError(
                    .keyFormatTypeNotSupported,
                    "Key Format Type \(format.name) is not available for this object"
                )
            }
        }
        var bytes = try await self.unwrap(record).copyBytes()
        defer { SecretBytes.wipe(&bytes) }
        let item: TTLVItem
        do {
            item = try TTLVItem(parsing: bytes, mode: .lenient)
        } catch {
            throw KMIPError(
                .generalFailure,
                "the stored \(record.objectType.name) \(record.uniqueIdentifier) is damaged"
            )
        }
        await self.markServed(record, context)
        batch.idPlaceholder = record.uniqueIdentifier
        return GetResponse(
            objectType: record.objectType,
            uniqueIdentifier: .text(record.uniqueIdentifier),
            object: .other(item)
        )
    }

    /// The Common Name of an X.509 certificate's subject, read from its DER encoding; nil when the
    /// certificate has none or cannot be read.
    ///
    /// > Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber,
    /// > signature, issuer, validity, subject, ... }, ... } (RFC 5280 §4.1)
    static func x509SubjectCommonName(_ der: [UInt8]) -> String? {
        guard let certificate = DERElement(der, at: 0), certificate.tag == 0x30,
            let tbs = DERElement(der, at: certificate.start), tbs.tag == 0x30
        else { return nil }
        var fields = tbs.children(of: der)
        if fields.first?.tag == 0xA0 { fields.removeFirst() }
        guard fields.count > 4, fields[4].tag == 0x30 else { return nil }
        for set in fields[4].children(of: der) where set.tag == 0x31 {
            for pair in set.children(of: der) where pair.tag == 0x30 {
                let parts = pair.children(of: der)
                // id-at-commonName, OID 2.5.4.3; UTF8String, PrintableString, T61String or IA5String.
                guard parts.count == 2, parts[0].tag == 0x06,
                    Array(der[parts[0].start..<parts[0].end]) == [0x55, 0x04, 0x03],
                    [0x0C, 0x13, 0x14, 0x16].contains(parts[1].tag)
                else { continue }
                return String(decoding: der[parts[1].start..<parts[1].end], as: UTF8.self)
            }
        }
        return nil
    }
}

/// One DER element: its (single-byte) tag and where its contents lie.
struct DERElement {
    var tag: UInt8
    var start: Int
    var end: Int

    init?(_ bytes: [UInt8], at offset: Int) {
        guard offset + 1 < bytes.count else { return nil }
        self.tag = bytes[offset]
        let first = Int(bytes[offset + 1])
        var start = offset + 2
        var length = first
        if first & 0x80 != 0 {
            let count = first & 0x7F
            guard count > 0, count <= 4, start + count <= bytes.count else { return nil }
            length = 0
            for byte in bytes[start..<start + count] { length = length << 8 | Int(byte) }
            start += count
        }
        guard length <= bytes.count - start else { return nil }
        self.start = start
        self.end = start + length
    }

    /// The elements inside a constructed element.
    func children(of bytes: [UInt8]) -> [DERElement] {
        var children: [DERElement] = []
        var offset = self.start
        while offset < self.end, let child = DERElement(bytes, at: offset), child.end <= self.end {
            children.append(child)
            offset = child.end
        }
        return children
    }
}
