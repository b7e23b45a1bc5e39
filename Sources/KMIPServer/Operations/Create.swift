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
    /// Create: a new AES key from the OpenSSL CSPRNG, wrapped under the tenant's root key and stored
    /// before the response is sent. The key starts Pre-Active (vCenter activates it), or Active when
    /// the client sets an Activation Date that has passed.
    ///
    /// KMIP 1.4 §4.1, KMIP 2.1 §6.1.8
    func create(_ request: CreateRequest, context: RequestContext, batch: inout BatchState) async throws(KMIPError) -> CreateResponse {
        guard request.objectType == .symmetricKey else {
            throw KMIPError(.invalidField, "Create makes Symmetric Keys; Object Type \(request.objectType.name) is not supported")
        }
        let supplied = try self.clientAttributes(request.attributes, context: context)
        guard case .enumeration(let algorithm)? = supplied.first(where: { $0.name == .standard(.cryptographicAlgorithm) })?.value else {
            throw KMIPError(.invalidField, "Create needs a Cryptographic Algorithm")
        }
        // AES for vCenter; Triple-DES (168-bit, three 64-bit keys with parity bits) because the
        // Symmetric Key Foundry profile asks for it (SKFF-M-4).
        let lengths: [Int32: Int]
        switch CryptographicAlgorithm(rawValue: algorithm) {
        case .aes: lengths = [128: 16, 192: 24, 256: 32]
        case .des3: lengths = [168: 24]
        default:
            throw KMIPError(.invalidField, "Keystorm creates AES and Triple-DES keys; Cryptographic Algorithm \(CryptographicAlgorithm(rawValue: algorithm).name) is not supported")
        }
        guard case .integer(let length)? = supplied.first(where: { $0.name == .standard(.cryptographicLength) })?.value else {
            throw KMIPError(.invalidField, "Create needs a Cryptographic Length")
        }
        guard let byteCount = lengths[length] else {
            throw KMIPError(.invalidField, "a \(CryptographicAlgorithm(rawValue: algorithm).name) key is \(lengths.keys.sorted().map(String.init).joined(separator: ", ")) bits long, not \(length)")
        }
        if case .boolean(true)? = supplied.first(where: { $0.name == .standard(.quantumSafe) })?.value, length < 256 {
            // KMIP 2.1 §4.44: a Quantum Safe object needs a quantum-safe strength (QS-M-2-21).
            throw KMIPError(.generalFailure, "NOT_SAFE: a \(length)-bit key is not quantum safe")
        }
        let material: SecretBytes
        do {
            material = try KeyGenerator.randomBytes(count: byteCount)
        } catch {
            throw KMIPError(.cryptographicFailure, "the random number generator failed")
        }
        var attributes = supplied
        if !attributes.contains(where: { $0.name == .standard(.cryptographicUsageMask) }) {
            let mask = CryptographicUsageMask([.encrypt, .decrypt])
            attributes.append(Attribute(.cryptographicUsageMask, .integer(mask.rawValue)))
        }
        // KMIP 1.4 §3.44: the generator that made the key: OpenSSL's CTR-DRBG over AES-256.
        attributes.append(Attribute(.randomNumberGenerator, .structure([
            TTLVItem(.rngAlgorithm, .enumeration(RNGAlgorithm.drbg.rawValue)),
            TTLVItem(.cryptographicAlgorithm, .enumeration(CryptographicAlgorithm.aes.rawValue)),
            TTLVItem(.cryptographicLength, .integer(256)),
            TTLVItem(.drbgAlgorithm, .enumeration(DRBGAlgorithm.ctr.rawValue)),
        ])))
        let uid = self.makeIdentifier()
        let record = try await self.newRecord(
            uid: uid,
            objectType: .symmetricKey,
            keyFormatType: .raw,
            material: material,
            clientAttributes: attributes,
            context: context
        )
        try await self.insert(record)
        batch.idPlaceholder = uid
        batch.lastIdentifier = uid
        return CreateResponse(objectType: .symmetricKey, uniqueIdentifier: .text(uid))
    }

    /// Checks the attributes a client supplies with Create, Register or Re-key.
    func clientAttributes(_ attributes: [Attribute], context: RequestContext) throws(KMIPError) -> [Attribute] {
        var seen: Set<AttributeName> = []
        for attribute in attributes {
            // Fresh is "initially set by server or client", never modified by a client (KMIP 1.4 §3.34).
            guard AttributePolicy.clientMaySet(attribute.name) || attribute.name == .standard(.fresh) else {
                throw KMIPError(
                    context.version.major >= 2 ? .attributeReadOnly : .invalidField,
                    "attribute \(attribute.name) is set by the server"
                )
            }
            if !AttributePolicy.isMultiValued(attribute.name) && !seen.insert(attribute.name).inserted {
                throw KMIPError(
                    context.version.major >= 2 ? .attributeSingleValued : .invalidField,
                    "attribute \(attribute.name) may appear only once"
                )
            }
        }
        return attributes.map { Attribute($0.name, $0.value) }
    }

    /// A new object: server attributes first, then the client's, key material wrapped.
    func newRecord(
        uid: String,
        objectType: ObjectType,
        keyFormatType: KeyFormatType?,
        material: SecretBytes?,
        clientAttributes: [Attribute],
        context: RequestContext
    ) async throws(KMIPError) -> ObjectRecord {
        let tenant = try await self.tenant(context)
        var wrapped: WrappedKeyRecord?
        if let material { wrapped = try await self.wrap(material, uid: uid, tenant: tenant) }
        let now = context.now
        var state: State = .preActive
        if case .dateTime(let activation)? = clientAttributes.first(where: { $0.name == .standard(.activationDate) })?.value,
            activation <= now
        {
            state = .active
        }
        var attributes: [Attribute] = [
            Attribute(.uniqueIdentifier, .textString(uid)),
            Attribute(.objectType, .enumeration(objectType.rawValue)),
        ]
        attributes += clientAttributes
        attributes += [
            Attribute(.state, .enumeration(state.rawValue)),
            Attribute(.initialDate, .dateTime(now)),
            Attribute(.lastChangeDate, .dateTime(now)),
            Attribute(.originalCreationDate, .dateTime(now)),
        ]
        do {
            // KMIP 2.1 §4.49: the Short Unique Identifier, SHA-256 of the Unique Identifier.
            attributes.append(Attribute(.shortUniqueIdentifier, .byteString(try Digest.sha256(of: Array(uid.utf8)))))
        } catch {
            throw KMIPError(.cryptographicFailure, "the Short Unique Identifier could not be computed")
        }
        if let keyFormatType {
            // Keys and Secret Data have a Key Format Type; an Opaque Object does not.
            attributes.insert(Attribute(.keyFormatType, .enumeration(keyFormatType.rawValue)), at: attributes.count - 4)
            if let material { attributes.append(try Self.digestAttribute(of: material, keyFormatType: keyFormatType)) }
        }
        // KMIP 1.4 §3.34, §3.49-3.52: Fresh until first served; Sensitive and Extractable as the
        // client set them (default not sensitive, extractable), and their history.
        var sensitive = false
        var extractable = true
        if case .boolean(let value)? = clientAttributes.first(where: { $0.name == .standard(.sensitive) })?.value { sensitive = value }
        if case .boolean(let value)? = clientAttributes.first(where: { $0.name == .standard(.extractable) })?.value { extractable = value }
        for (tag, value) in [(TTLVTag.fresh, true), (.sensitive, sensitive), (.extractable, extractable)]
        where !attributes.contains(where: { $0.name == .standard(tag) }) {
            attributes.append(Attribute(tag, .boolean(value)))
        }
        attributes.append(Attribute(.alwaysSensitive, .boolean(sensitive)))
        attributes.append(Attribute(.neverExtractable, .boolean(!extractable)))
        let stored = StoredObject(
            tenantID: context.tenantID,
            uniqueIdentifier: uid,
            objectType: objectType.rawValue,
            state: state.rawValue,
            names: [],
            attributes: [],
            wrappedKey: wrapped,
            createdAt: now,
            updatedAt: now
        )
        return ObjectRecord(stored: stored, attributes: attributes)
    }

    /// The Digest attribute: SHA-256 over the key material in the format the object was created or
    /// registered in: the Raw bytes, or the TTLV-encoded Key Material structure of a Transparent
    /// Symmetric Key (TC-18.1).
    ///
    /// KMIP 1.4 §3.17, KMIP 2.1 §4.15
    static func digestAttribute(of material: SecretBytes, keyFormatType: KeyFormatType?) throws(KMIPError) -> Attribute {
        let digest: [UInt8]
        do {
            if keyFormatType == .transparentSymmetricKey {
                var encoded = TTLVItem(.keyMaterial, .structure([TTLVItem(.key, .byteString(material.copyBytes()))])).encoded()
                defer { SecretBytes.wipe(&encoded) }
                digest = try Digest.sha256(of: encoded)
            } else {
                digest = try Digest.sha256(of: material)
            }
        } catch {
            throw KMIPError(.cryptographicFailure, "the key's digest could not be computed")
        }
        return Attribute(.digest, .structure([
            TTLVItem(.hashingAlgorithm, .enumeration(HashingAlgorithm.sha256.rawValue)),
            TTLVItem(.digestValue, .byteString(digest)),
        ] + (keyFormatType.map { [TTLVItem(.keyFormatType, .enumeration($0.rawValue))] } ?? [])))
    }
}
