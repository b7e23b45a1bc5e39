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
        guard CryptographicAlgorithm(rawValue: algorithm) == .aes else {
            throw KMIPError(.invalidField, "Keystorm creates AES keys; Cryptographic Algorithm \(CryptographicAlgorithm(rawValue: algorithm).name) is not supported")
        }
        guard case .integer(let length)? = supplied.first(where: { $0.name == .standard(.cryptographicLength) })?.value else {
            throw KMIPError(.invalidField, "Create needs a Cryptographic Length")
        }
        guard [128, 192, 256].contains(length) else {
            throw KMIPError(.invalidField, "an AES key is 128, 192 or 256 bits long, not \(length)")
        }
        let material: SecretBytes
        do {
            material = try KeyGenerator.randomBytes(count: Int(length) / 8)
        } catch {
            throw KMIPError(.cryptographicFailure, "the random number generator failed")
        }
        var attributes = supplied
        if !attributes.contains(where: { $0.name == .standard(.cryptographicUsageMask) }) {
            let mask = CryptographicUsageMask([.encrypt, .decrypt])
            attributes.append(Attribute(.cryptographicUsageMask, .integer(mask.rawValue)))
        }
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
            guard AttributePolicy.clientMaySet(attribute.name) else {
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
        keyFormatType: KeyFormatType,
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
            Attribute(.keyFormatType, .enumeration(keyFormatType.rawValue)),
            Attribute(.state, .enumeration(state.rawValue)),
            Attribute(.initialDate, .dateTime(now)),
            Attribute(.lastChangeDate, .dateTime(now)),
            Attribute(.originalCreationDate, .dateTime(now)),
        ]
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
}
