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
    /// Activate: Pre-Active → Active, Activation Date now.
    ///
    /// KMIP 1.4 §4.19, KMIP 2.1 §6.1.1
    func activate(_ request: ActivateRequest, context: RequestContext, batch: inout BatchState) async throws(KMIPError) -> ActivateResponse {
        let record = try await self.target(request.uniqueIdentifier, context, &batch)
        try await self.edit(record, context) { record throws(KMIPError) in
            guard record.state == .preActive else {
                throw KMIPError.wrongState(context.version, "only a Pre-Active object can be activated; this one is \(record.state.name)")
            }
            record.set(.activationDate, .dateTime(context.now))
            record.transition(to: .active, now: context.now)
        }
        batch.idPlaceholder = record.uniqueIdentifier
        return ActivateResponse(uniqueIdentifier: .text(record.uniqueIdentifier))
    }

    /// Revoke: key or CA compromise → Compromised (Compromise Date, Compromise Occurrence Date);
    /// any other reason → Deactivated (Deactivation Date). vSphere then reports the key as not
    /// active, which is the per-disk kill switch.
    ///
    /// KMIP 1.4 §4.20, KMIP 2.1 §6.1.42
    func revoke(_ request: RevokeRequest, context: RequestContext, batch: inout BatchState) async throws(KMIPError) -> RevokeResponse {
        let record = try await self.target(request.uniqueIdentifier, context, &batch)
        try await self.edit(record, context) { record throws(KMIPError) in
            let code = request.revocationReason.code
            let compromise = code == .keyCompromise || code == .caCompromise
            let reason = TTLVValue.structure(
                [TTLVItem(.revocationReasonCode, .enumeration(code.rawValue))]
                    + (request.revocationReason.message.map { [TTLVItem(.revocationMessage, .textString($0))] } ?? [])
            )
            switch (record.state, compromise) {
            case (.preActive, true), (.active, true), (.deactivated, true), (.compromised, true):
                record.set(.compromiseDate, .dateTime(context.now))
                record.set(.compromiseOccurrenceDate, .dateTime(request.compromiseOccurrenceDate ?? context.now))
                record.set(.revocationReason, reason)
                record.transition(to: .compromised, now: context.now)
            case (.destroyed, true):
                record.set(.compromiseDate, .dateTime(context.now))
                record.set(.compromiseOccurrenceDate, .dateTime(request.compromiseOccurrenceDate ?? context.now))
                record.set(.revocationReason, reason)
                record.transition(to: .destroyedCompromised, now: context.now)
            case (.active, false), (.preActive, false):
                record.set(.deactivationDate, .dateTime(context.now))
                record.set(.revocationReason, reason)
                record.transition(to: .deactivated, now: context.now)
            default:
                throw KMIPError.wrongState(context.version, "a \(record.state.name) object cannot be revoked for \(code.name)")
            }
        }
        self.forgetKeyMaterial(record)
        batch.idPlaceholder = record.uniqueIdentifier
        return RevokeResponse(uniqueIdentifier: .text(record.uniqueIdentifier))
    }

    /// Destroy: the key material is erased (the wrapped copy is dropped from the store); the
    /// metadata stays, in state Destroyed (or Destroyed Compromised). An Active object must be
    /// revoked first: Permission Denied in 1.x, Wrong Key Lifecycle State in 2.x (SKLC-M-2).
    ///
    /// KMIP 1.4 §4.21, KMIP 2.1 §6.1.15
    func destroy(_ request: DestroyRequest, context: RequestContext, batch: inout BatchState) async throws(KMIPError) -> DestroyResponse {
        let record = try await self.target(request.uniqueIdentifier, context, &batch)
        try await self.edit(record, context) { record throws(KMIPError) in
            let next: State
            switch record.state {
            case .preActive, .deactivated: next = .destroyed
            case .compromised: next = .destroyedCompromised
            case .active:
                throw KMIPError.wrongState(context.version, "an Active object cannot be destroyed; revoke it first")
            default:
                if context.version.major >= 2 {
                    throw KMIPError(.objectDestroyed, "object \(record.uniqueIdentifier) is already destroyed")
                }
                throw KMIPError.itemNotFound(record.uniqueIdentifier)
            }
            record.stored.wrappedKey = nil
            record.set(.destroyDate, .dateTime(context.now))
            record.transition(to: next, now: context.now)
        }
        self.forgetKeyMaterial(record)
        batch.idPlaceholder = record.uniqueIdentifier
        return DestroyResponse(uniqueIdentifier: .text(record.uniqueIdentifier))
    }
}
