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

extension KMIPServerCore {
    /// The reason for a refused change to a server-managed attribute.
    func readOnly(_ name: AttributeName, _ context: RequestContext) -> KMIPError {
        KMIPError(
            context.version.major >= 2 ? .attributeReadOnly : .permissionDenied,
            "attribute \(name) cannot be changed by a client"
        )
    }

    /// Refuses a change to `name` that the object's attribute rules or lifecycle forbid.
    func checkEditable(_ name: AttributeName, _ record: ObjectRecord, _ context: RequestContext) throws(KMIPError) {
        guard AttributePolicy.clientMaySet(name) else { throw self.readOnly(name, context) }
        if case .standard(let tag) = name {
            if AttributePolicy.fixedAfterCreation.contains(tag) { throw self.readOnly(name, context) }
            if AttributePolicy.frozenOnceActive.contains(tag) && record.state != .preActive {
                throw KMIPError.wrongState(context.version, "attribute \(name) cannot change once the object is \(record.state.name)")
            }
        }
    }

    /// A Pre-Active object whose Activation Date has come is Active; an Active one whose
    /// Deactivation Date has come is Deactivated (KMIP 1.4 §3.22, §3.26; TC-9.2).
    static func applyLifecycleDates(_ record: inout ObjectRecord, now: Int64) {
        func due(_ tag: TTLVTag) -> Bool {
            if case .dateTime(let date)? = record.first(.standard(tag))?.value { return date <= now }
            return false
        }
        if record.state == .preActive && due(.activationDate) { record.transition(to: .active, now: now) }
        if record.state == .active && due(.deactivationDate) { record.transition(to: .deactivated, now: now) }
    }

    /// KMIP 2.x: a Name another of the tenant's live objects has is Non Unique Name Attribute; so is,
    /// with `includingOwn`, a Name the object itself has already (Add Attribute of a second,
    /// identical instance: BL-M-8-21). KMIP 1.x leaves uniqueness to the server's policy and allows it.
    func checkUniqueName(
        _ attribute: Attribute,
        of uid: String,
        _ context: RequestContext,
        includingOwn: Bool = false
    ) async throws(KMIPError) {
        guard context.version.major >= 2, attribute.name == .standard(.name), case .structure(let fields) = attribute.value,
            case .textString(let value)? = fields.first(where: { $0.tag == .nameValue })?.value
        else { return }
        var query = ObjectQuery(name: value)
        query.states = [State.preActive, .active, .deactivated, .compromised].reduce(into: Set<UInt32>()) { $0.insert($1.rawValue) }
        let page = try await self.storage("looking up a name") {
            try await self.store.objects(tenantID: context.tenantID, matching: query)
        }
        if page.objects.contains(where: { includingOwn || $0.uniqueIdentifier != uid }) {
            throw KMIPError(.nonUniqueNameAttribute, "an object already has the Name '\(value)'")
        }
    }

    func attributeNotFound(_ name: AttributeName, _ context: RequestContext) -> KMIPError {
        KMIPError(context.version.major >= 2 ? .attributeNotFound : .itemNotFound, "the object has no attribute \(name)")
    }

    /// Add Attribute: a new attribute, or a new instance of a multi-valued one. vCenter adds its
    /// `x-Vendor`, `x-Product`, ... this way, three to a batch.
    ///
    /// KMIP 1.4 §4.14, KMIP 2.1 §6.1.2
    func addAttribute(_ request: AddAttributeRequest, context: RequestContext, batch: inout BatchState) async throws(KMIPError) -> AddAttributeResponse {
        let record = try await self.target(request.uniqueIdentifier, context, &batch)
        let attribute = request.attribute
        let index = try await self.edit(record, context) { record throws(KMIPError) in
            try self.checkEditable(attribute.name, record, context)
            try await self.checkUniqueName(attribute, of: record.uniqueIdentifier, context, includingOwn: true)
            if !AttributePolicy.isMultiValued(attribute.name) && record.first(attribute.name) != nil {
                throw KMIPError(
                    context.version.major >= 2 ? .attributeSingleValued : .permissionDenied,
                    "attribute \(attribute.name) already exists and has a single value"
                )
            }
            let index = record.add(attribute.name, attribute.value)
            Self.applyLifecycleDates(&record, now: context.now)
            record.touch(context.now)
            return index
        }
        batch.idPlaceholder = record.uniqueIdentifier
        let added = Attribute(attribute.name, index: index > 0 ? Int32(index) : nil, attribute.value)
        return AddAttributeResponse(uniqueIdentifier: .text(record.uniqueIdentifier), attribute: added)
    }

    /// Modify Attribute: a new value for an existing attribute (1.x: the instance at Attribute
    /// Index, 0 by default; 2.x: the instance equal to Current Attribute, or the only one).
    ///
    /// KMIP 1.4 §4.15, KMIP 2.1 §6.1.34
    func modifyAttribute(_ request: ModifyAttributeRequest, context: RequestContext, batch: inout BatchState) async throws(KMIPError) -> ModifyAttributeResponse {
        let record = try await self.target(request.uniqueIdentifier, context, &batch)
        let attribute = request.attribute
        let index = try await self.edit(record, context) { record throws(KMIPError) in
            try self.checkEditable(attribute.name, record, context)
            try await self.checkUniqueName(attribute, of: record.uniqueIdentifier, context)
            let instances = record.all(attribute.name)
            guard !instances.isEmpty else { throw self.attributeNotFound(attribute.name, context) }
            var index = Int(attribute.index ?? 0)
            if let current = request.currentAttribute {
                guard let position = instances.firstIndex(where: { $0.value == current.value }) else {
                    throw KMIPError(.attributeInstanceNotFound, "no instance of \(attribute.name) has the Current Attribute's value")
                }
                index = position
            }
            guard record.replace(attribute.name, index: index, with: attribute.value) else {
                throw KMIPError(context.version.major >= 2 ? .attributeInstanceNotFound : .itemNotFound, "attribute \(attribute.name) has no index \(index)")
            }
            Self.applyLifecycleDates(&record, now: context.now)
            record.touch(context.now)
            return index
        }
        batch.idPlaceholder = record.uniqueIdentifier
        let modified = Attribute(attribute.name, index: index > 0 ? Int32(index) : nil, attribute.value)
        return ModifyAttributeResponse(uniqueIdentifier: .text(record.uniqueIdentifier), attribute: modified)
    }

    /// Delete Attribute: remove one instance (1.x index, 2.x Current Attribute) or, in 2.x with an
    /// Attribute Reference, every instance.
    ///
    /// KMIP 1.4 §4.16, KMIP 2.1 §6.1.14
    func deleteAttribute(_ request: DeleteAttributeRequest, context: RequestContext, batch: inout BatchState) async throws(KMIPError) -> DeleteAttributeResponse {
        let record = try await self.target(request.uniqueIdentifier, context, &batch)
        guard let name = request.currentAttribute?.name ?? request.attributeName else {
            throw KMIPError(.invalidField, "Delete Attribute names no attribute")
        }
        let first = try await self.edit(record, context) { record throws(KMIPError) in
            try self.checkEditable(name, record, context)
            if case .standard(let tag) = name, [.cryptographicUsageMask].contains(tag) {
                throw self.readOnly(name, context)
            }
            let removed: [Attribute]
            if let current = request.currentAttribute {
                guard let position = record.all(name).firstIndex(where: { $0.value == current.value }) else {
                    throw KMIPError(.attributeInstanceNotFound, "no instance of \(name) has the Current Attribute's value")
                }
                removed = record.remove(name, index: position)
            } else if context.version.major >= 2 {
                removed = record.remove(name, index: nil)
            } else {
                removed = record.remove(name, index: Int(request.attributeIndex ?? 0))
            }
            guard let first = removed.first else { throw self.attributeNotFound(name, context) }
            record.touch(context.now)
            return first
        }
        batch.idPlaceholder = record.uniqueIdentifier
        let index = request.attributeIndex.flatMap { $0 > 0 ? $0 : nil }
        return DeleteAttributeResponse(uniqueIdentifier: .text(record.uniqueIdentifier), attribute: Attribute(first.name, index: index, first.value))
    }

    /// Set Attribute (2.x): give a single-valued attribute a value, adding or replacing it.
    ///
    /// KMIP 2.1 §6.1.51
    func setAttribute(_ request: SetAttributeRequest, context: RequestContext, batch: inout BatchState) async throws(KMIPError) -> SetAttributeResponse {
        let record = try await self.target(request.uniqueIdentifier, context, &batch)
        let attribute = request.attribute
        try await self.edit(record, context) { record throws(KMIPError) in
            try self.checkEditable(attribute.name, record, context)
            try await self.checkUniqueName(attribute, of: record.uniqueIdentifier, context)
            // A multi-valued attribute, or one that has several instances now (TC-SETATTR-3-20).
            if case .standard(let tag) = attribute.name, AttributePolicy.multiValued.contains(tag) {
                throw KMIPError(.multiValuedAttribute, "attribute \(attribute.name) has several values; use Add or Modify Attribute")
            }
            if record.all(attribute.name).count > 1 {
                throw KMIPError(.multiValuedAttribute, "attribute \(attribute.name) has several values; use Add or Modify Attribute")
            }
            record.set(attribute.name, attribute.value)
            Self.applyLifecycleDates(&record, now: context.now)
            record.touch(context.now)
        }
        batch.idPlaceholder = record.uniqueIdentifier
        return SetAttributeResponse(uniqueIdentifier: .text(record.uniqueIdentifier))
    }
}
