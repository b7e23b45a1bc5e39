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
    /// Runs one operation and returns its response payload.
    ///
    /// - Throws: KMIPError, which the batch executor renders into the failed item.
    func perform(
        _ payload: RequestPayload,
        operation: Operation,
        context: RequestContext,
        batch: inout BatchState
    ) async throws(KMIPError) -> ResponsePayload {
        switch payload {
        case .discoverVersions(let request): return .discoverVersions(self.discoverVersions(request))
        case .query(let request): return .query(self.query(request, context: context))
        case .create(let request): return .create(try await self.create(request, context: context, batch: &batch))
        case .register(let request): return .register(try await self.register(request, context: context, batch: &batch))
        case .get(let request): return .get(try await self.get(request, context: context, batch: &batch))
        case .getAttributes(let request):
            return .getAttributes(try await self.getAttributes(request, context: context, batch: &batch))
        case .getAttributeList(let request):
            return .getAttributeList(try await self.getAttributeList(request, context: context, batch: &batch))
        case .addAttribute(let request):
            return .addAttribute(try await self.addAttribute(request, context: context, batch: &batch))
        case .modifyAttribute(let request):
            return .modifyAttribute(try await self.modifyAttribute(request, context: context, batch: &batch))
        case .deleteAttribute(let request):
            return .deleteAttribute(try await self.deleteAttribute(request, context: context, batch: &batch))
        case .setAttribute(let request):
            return .setAttribute(try await self.setAttribute(request, context: context, batch: &batch))
        case .locate(let request): return .locate(try await self.locate(request, context: context, batch: &batch))
        case .activate(let request): return .activate(try await self.activate(request, context: context, batch: &batch))
        case .revoke(let request): return .revoke(try await self.revoke(request, context: context, batch: &batch))
        case .destroy(let request): return .destroy(try await self.destroy(request, context: context, batch: &batch))
        case .reKey(let request): return .reKey(try await self.reKey(request, context: context, batch: &batch))
        case .check(let request): return .check(try await self.check(request, context: context, batch: &batch))
        case .other:
            // KMIP 2.1 §6.1.26 Interop and §6.1.29 Log: test-harness markers and a client note; the
            // audit log records the operation, the server has nothing else to do.
            if context.version.major >= 2 && (operation == .interop || operation == .log) {
                return .other(TTLVItem(.responsePayload, .structure([])))
            }
            throw KMIPError(.operationNotSupported, "operation \(operation.name) is not supported")
        }
    }

    /// The operations Keystorm answers, for Query.
    static let supportedOperations: [Operation] = [
        .create, .register, .reKey, .locate, .check, .get, .getAttributes, .getAttributeList, .addAttribute,
        .modifyAttribute, .deleteAttribute, .activate, .revoke, .destroy, .query, .discoverVersions,
    ]

    /// The object a request names: its Unique Identifier, or the ID Placeholder when it names none.
    func resolve(_ identifier: UniqueIdentifier?, _ batch: BatchState) throws(KMIPError) -> String {
        switch identifier {
        case .text(let uid)?:
            return uid
        case nil, .enumeration(.idPlaceholder)?:
            guard let placeholder = batch.idPlaceholder else {
                // No earlier item named an object (e.g. a Locate that found none): there is no
                // such item (TC-15.2).
                throw KMIPError(.itemNotFound, "no Unique Identifier and no ID Placeholder from an earlier batch item")
            }
            return placeholder
        case .enumeration(let value)?:
            throw KMIPError(.invalidField, "Unique Identifier \(value.name) is not supported")
        case .integer:
            throw KMIPError(.invalidField, "a batch item index as Unique Identifier is not supported")
        }
    }

    /// Loads the object a request names and records it as the item's object.
    func target(_ identifier: UniqueIdentifier?, _ context: RequestContext, _ batch: inout BatchState) async throws(KMIPError) -> ObjectRecord {
        let uid = try self.resolve(identifier, batch)
        batch.lastIdentifier = uid
        do {
            var record = try await self.load(uid, context)
            // A lifecycle date that has come since the last change moves the State now, so
            // every operation sees it (KMIP 1.4 §3.22, §3.26; TC-9.2). Concurrent requests may
            // race to record it: the loser re-reads what the winner wrote.
            for _ in 0..<4 {
                let state = record.state
                Self.applyLifecycleDates(&record, now: context.now)
                if record.state == state { return record }
                if try await self.saveIfUnchanged(record) {
                    record.stored.revision += 1
                    return record
                }
                record = try await self.load(uid, context)
            }
            return record
        } catch where error.reason == .itemNotFound && context.version.major >= 2 {
            // KMIP 2.1 names the reason Object Not Found (BL-M-4-21).
            throw KMIPError(.objectNotFound, error.message)
        }
    }
}
