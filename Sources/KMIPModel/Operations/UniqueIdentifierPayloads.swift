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

/// The request payload of the operations that name only an object: Activate, Destroy and Get
/// Attribute List.
///
/// > "Unique Identifier: Determines the object being [acted on]. If omitted, then the ID
/// > Placeholder value is used by the server as the Unique Identifier."
///
/// `Kind` names the operation and is not stored: ``ActivateRequest`` and ``DestroyRequest`` are
/// this type, encoded alike, each still with its own ``KMIPRequestPayload/operation``.
///
/// KMIP 1.4 §4.13, §4.19, §4.21; KMIP 2.1 §6.1.1, §6.1.15, §6.1.19
public struct UniqueIdentifierRequest<Kind: UniqueIdentifierRequestKind>: Hashable, Sendable {
    /// The object; the ID Placeholder when absent.
    public var uniqueIdentifier: UniqueIdentifier?

    public init(uniqueIdentifier: UniqueIdentifier?) {
        self.uniqueIdentifier = uniqueIdentifier
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.uniqueIdentifier()
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
    }
}

/// The response payload of the operations that answer only with the object's identifier:
/// Activate, Destroy, Revoke and Set Attribute.
///
/// KMIP 1.4 §4.19-4.21; KMIP 2.1 §6.1.1, §6.1.15, §6.1.42, §6.1.51
public struct UniqueIdentifierResponse<Kind: UniqueIdentifierResponseKind>: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier

    public init(uniqueIdentifier: UniqueIdentifier) {
        self.uniqueIdentifier = uniqueIdentifier
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.required(try reader.uniqueIdentifier(), .uniqueIdentifier)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
    }
}

/// An operation whose request is a ``UniqueIdentifierRequest``.
public protocol UniqueIdentifierRequestKind: KMIPOperationKind {
    /// The request wrapped in its ``RequestPayload`` case.
    static func requestPayload(_ payload: UniqueIdentifierRequest<Self>) -> RequestPayload
}

/// An operation whose response is a ``UniqueIdentifierResponse``.
public protocol UniqueIdentifierResponseKind: KMIPOperationKind {
    /// The response wrapped in its ``ResponsePayload`` case.
    static func responsePayload(_ payload: UniqueIdentifierResponse<Self>) -> ResponsePayload
}

extension UniqueIdentifierRequest: KMIPRequestPayload {
    public static var operation: Operation { Kind.operation }
    public var requestPayload: RequestPayload { Kind.requestPayload(self) }
}

extension UniqueIdentifierResponse: KMIPResponsePayload {
    public static var operation: Operation { Kind.operation }
    public var responsePayload: ResponsePayload { Kind.responsePayload(self) }
}
