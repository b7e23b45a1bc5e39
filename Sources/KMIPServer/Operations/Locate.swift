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
    /// Locate: the tenant's objects whose attributes match every attribute in the request (two
    /// instances of a date attribute give a range), most recently created first, then Offset
    /// Items and Maximum Items (at most ``KMIPServerConfiguration/maxLocateItems``). Destroyed
    /// objects are found only when the request asks for their State. The first identifier found
    /// becomes the ID Placeholder.
    ///
    /// The store filters Object Type, State and Name, orders, and pages; when other attributes
    /// must be matched, the store reads the candidates in chunks of
    /// ``KMIPServerConfiguration/locateScanChunk`` and matches them on its own threads, never on
    /// the connection's event loop, stopping once the page is full. Located Items (asked for with
    /// Offset Items) then needs every candidate read, still a chunk at a time.
    ///
    /// KMIP 1.4 §4.9, KMIP 2.1 §6.1.27
    func locate(_ request: LocateRequest, context: RequestContext, batch: inout BatchState) async throws(KMIPError) -> LocateResponse {
        var query = ObjectQuery()
        var filters: [Attribute] = []
        for attribute in request.attributes {
            switch (attribute.name, attribute.value) {
            case (.standard(.objectType), .enumeration(let type)): query.objectType = type
            case (.standard(.state), .enumeration(let state)): query.states = [state]
            case (.standard(.name), .structure(let fields)):
                if case .textString(let value)? = fields.first(where: { $0.tag == .nameValue })?.value { query.name = value }
                filters.append(attribute)
            default: filters.append(attribute)
            }
        }
        // KMIP 1.4 §4.9 Object Group Member: Fresh finds the group's members not yet served
        // (TC-15.2); Default, a member chosen by server policy, is not offered.
        switch request.objectGroupMember {
        case nil: break
        case .groupMemberFresh?: filters.append(Attribute(.fresh, .boolean(true)))
        case let option?:
            throw KMIPError(.featureNotSupported, "Object Group Member \(option.name) is not supported")
        }
        if query.states == nil {
            query.states = [State.preActive, .active, .deactivated, .compromised].reduce(into: Set<UInt32>()) { $0.insert($1.rawValue) }
        }
        // Most recently created first, so Maximum Items and Offset Items page from the newest
        // (TC-OFFSET-1/2); fresh group members are handed out oldest first (TC-15.2).
        query.newestFirst = request.objectGroupMember != .groupMemberFresh
        query.offset = max(0, Int(request.offsetItems ?? 0))
        query.limit = max(0, min(Int(request.maximumItems ?? Int32.max), self.configuration.maxLocateItems))
        // Located Items (1.3+) is optional; like the OASIS reference runs (TC-OFFSET-1-14), it is
        // sent when the client pages with Offset Items.
        let countsMatches = context.version >= .v1_3 && request.offsetItems != nil
        let page: ObjectPage
        if filters.isEmpty {
            page = try await self.storage("locating objects") {
                try await self.store.objects(tenantID: context.tenantID, matching: query)
            }
        } else {
            let scan = ObjectScan(chunkSize: self.configuration.locateScanChunk, countsEveryMatch: countsMatches) {
                [filters] stored in
                Self.matches(try ObjectRecord(stored: stored), filters)
            }
            page = try await self.storage("locating objects") {
                try await self.store.objects(tenantID: context.tenantID, matching: query, scan: scan)
            }
        }
        let selected = page.objects.map(\.uniqueIdentifier)
        if let first = selected.first { batch.idPlaceholder = first }
        let located: Int32? = countsMatches ? Int32(clamping: page.totalMatches) : nil
        return LocateResponse(locatedItems: located, uniqueIdentifiers: selected.map { .text($0) })
    }

    /// Whether `record` has every attribute of `filters`.
    static func matches(_ record: ObjectRecord, _ filters: [Attribute]) -> Bool {
        var byName: [AttributeName: [TTLVValue]] = [:]
        for filter in filters { byName[filter.name, default: []].append(filter.value) }
        for (name, wanted) in byName {
            let present = record.all(name).map(\.value)
            if wanted.count == 2, case .dateTime(let a) = wanted[0], case .dateTime(let b) = wanted[1] {
                let range = min(a, b)...max(a, b)
                guard present.contains(where: { if case .dateTime(let d) = $0 { return range.contains(d) } else { return false } }) else {
                    return false
                }
                continue
            }
            for value in wanted where !present.contains(where: { Self.valueMatches($0, value) }) {
                return false
            }
        }
        return true
    }

    /// A stored value matches a filter value when equal; a structured filter (Name, Link, ...)
    /// matches when every field it gives is equal.
    static func valueMatches(_ stored: TTLVValue, _ filter: TTLVValue) -> Bool {
        if case .structure(let want) = filter, case .structure(let have) = stored {
            return want.allSatisfy { field in have.contains(field) }
        }
        if case .integer(let want) = filter, case .integer(let have) = stored, want != have {
            return false
        }
        return stored == filter
    }
}
