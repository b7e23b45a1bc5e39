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
    /// Re-key: a new key of the same algorithm and length replaces an existing symmetric key. The
    /// new key takes the old one's names and client attributes; the two are linked (Replacement
    /// Object Link on the old, Replaced Object Link on the new). With an Offset, the new key's
    /// Activation Date is its Initial Date plus the offset.
    ///
    /// KMIP 1.4 §4.4, KMIP 2.1 §6.1.43
    func reKey(_ request: ReKeyRequest, context: RequestContext, batch: inout BatchState) async throws(KMIPError) -> ReKeyResponse {
        let old = try await self.target(request.uniqueIdentifier, context, &batch)
        guard old.objectType == .symmetricKey, old.stored.wrappedKey != nil else {
            throw KMIPError(.illegalOperation, "only a symmetric key with key material can be re-keyed")
        }
        // A compromised key is re-keyed to replace it (TC-9.3); a destroyed one has no material.
        guard old.state != .destroyed && old.state != .destroyedCompromised else {
            throw KMIPError.wrongState(context.version, "a \(old.state.name) key cannot be re-keyed")
        }
        let supplied = try self.clientAttributes(request.templateAttribute?.attributes ?? [], context: context)
        var length: Int32 = 256
        if case .integer(let value)? = old.first(.standard(.cryptographicLength))?.value { length = value }
        let material: SecretBytes
        do {
            material = try KeyGenerator.randomBytes(count: Int(length) / 8)
        } catch {
            throw KMIPError(.cryptographicFailure, "the random number generator failed")
        }
        let carried: Set<TTLVTag> = [.uniqueIdentifier, .state, .initialDate, .lastChangeDate, .originalCreationDate, .keyFormatType,
            .activationDate, .deactivationDate, .destroyDate, .compromiseDate, .compromiseOccurrenceDate, .revocationReason, .link,
            .objectType, .digest, .fresh, .alwaysSensitive, .neverExtractable, .processStartDate, .protectStopDate,
            .shortUniqueIdentifier]
        var attributes = old.attributes.filter {
            if case .standard(let tag) = $0.name { return !carried.contains(tag) }
            return true
        }
        for attribute in supplied {
            // A Name (or other multi-valued attribute) given with Re-key joins the carried ones
            // (TC-REKEY-1); a single-valued one replaces the carried value.
            if AttributePolicy.isMultiValued(attribute.name) {
                if attributes.contains(where: { $0.name == attribute.name && $0.value == attribute.value }) { continue }
            } else {
                attributes.removeAll { $0.name == attribute.name }
            }
            attributes.append(attribute)
        }
        // KMIP 1.4 §4.4: with an Offset, the new Activation Date is its Initial Date plus the offset
        // and the other lifecycle dates keep their distance to it; without one, they are copied
        // from the existing key (TC-9.3).
        var activationShift: Int64 = 0
        if let offset = request.offset, case .dateTime(let oldActivation)? = old.first(.standard(.activationDate))?.value {
            activationShift = context.now + Int64(offset) - oldActivation
        }
        for tag in [TTLVTag.activationDate, .processStartDate, .protectStopDate, .deactivationDate]
        where !supplied.contains(where: { $0.name == .standard(tag) }) {
            if case .dateTime(let date)? = old.first(.standard(tag))?.value {
                attributes.append(Attribute(tag, .dateTime(date + activationShift)))
            }
        }
        if let offset = request.offset, !attributes.contains(where: { $0.name == .standard(.activationDate) }) {
            attributes.append(Attribute(.activationDate, .dateTime(context.now + Int64(offset))))
        }
        let uid = self.makeIdentifier()
        attributes.append(Attribute(.link, .structure([
            TTLVItem(.linkType, .enumeration(LinkType.replacedObjectLink.rawValue)),
            TTLVItem(.linkedObjectIdentifier, .textString(old.uniqueIdentifier)),
        ])))
        let record = try await self.newRecord(
            uid: uid,
            objectType: .symmetricKey,
            keyFormatType: .raw,
            material: material,
            clientAttributes: attributes,
            context: context
        )
        try await self.insert(record)
        // The names moved to the new key; the old one links to it.
        try await self.edit(old, context) { old throws(KMIPError) in
            _ = old.remove(.standard(.name), index: nil)
            old.add(.standard(.link), .structure([
                TTLVItem(.linkType, .enumeration(LinkType.replacementObjectLink.rawValue)),
                TTLVItem(.linkedObjectIdentifier, .textString(uid)),
            ]))
            old.touch(context.now)
        }
        batch.idPlaceholder = uid
        batch.lastIdentifier = uid
        return ReKeyResponse(uniqueIdentifier: .text(uid))
    }

    /// Check: whether the object may be used with the given usage mask.
    ///
    /// KMIP 1.4 §4.10, KMIP 2.1 §6.1.4
    func check(_ request: CheckRequest, context: RequestContext, batch: inout BatchState) async throws(KMIPError) -> CheckResponse {
        let record = try await self.target(request.uniqueIdentifier, context, &batch)
        if let wanted = request.cryptographicUsageMask {
            var allowed = CryptographicUsageMask()
            if case .integer(let mask)? = record.first(.standard(.cryptographicUsageMask))?.value {
                allowed = CryptographicUsageMask(rawValue: mask)
            }
            guard allowed.isSuperset(of: wanted) else {
                throw KMIPError(
                    context.version.major >= 2 ? .incompatibleCryptographicUsageMask : .illegalOperation,
                    "the object's Cryptographic Usage Mask does not allow that use"
                )
            }
        }
        guard record.state == .active || request.cryptographicUsageMask == nil else {
            throw KMIPError.wrongState(context.version, "a \(record.state.name) object cannot be used")
        }
        batch.idPlaceholder = record.uniqueIdentifier
        return CheckResponse(uniqueIdentifier: .text(record.uniqueIdentifier))
    }
}
