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

import KMIPModel

extension KMIPServerCore {
    /// Get Attributes: the named attributes that exist (all when none is named). An absent attribute
    /// is simply left out, so asking only for an absent `x-` attribute returns just the Unique
    /// Identifier: vCenter relies on that to decide whether to add it.
    ///
    /// KMIP 1.4 §4.12, KMIP 2.1 §6.1.20
    func getAttributes(_ request: GetAttributesRequest, context: RequestContext, batch: inout BatchState) async throws(KMIPError) -> GetAttributesResponse {
        let record = try await self.target(request.uniqueIdentifier, context, &batch)
        let visible = record.visibleAttributes(for: context.version)
        let attributes: [Attribute]
        if request.attributeNames.isEmpty {
            attributes = visible
        } else {
            var seen: Set<AttributeName> = []
            var selected: [Attribute] = []
            for name in request.attributeNames {
                guard seen.insert(name).inserted else {
                    // KMIP 1.1 TC-17.1: a name given twice makes the request invalid.
                    if context.version.major < 2 { throw KMIPError(.invalidMessage, "Attribute Name specified more than once: \(name)") }
                    continue
                }
                selected += visible.filter { $0.name == name }
            }
            attributes = selected
        }
        batch.idPlaceholder = record.uniqueIdentifier
        return GetAttributesResponse(uniqueIdentifier: .text(record.uniqueIdentifier), attributes: attributes)
    }

    /// Get Attribute List: the names of the attributes the object has.
    ///
    /// KMIP 1.4 §4.13, KMIP 2.1 §6.1.19
    func getAttributeList(_ request: GetAttributeListRequest, context: RequestContext, batch: inout BatchState) async throws(KMIPError) -> GetAttributeListResponse {
        let record = try await self.target(request.uniqueIdentifier, context, &batch)
        var seen: Set<AttributeName> = []
        let names = record.visibleAttributes(for: context.version).map(\.name).filter { seen.insert($0).inserted }
        batch.idPlaceholder = record.uniqueIdentifier
        return GetAttributeListResponse(uniqueIdentifier: .text(record.uniqueIdentifier), attributeNames: names)
    }
}
