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

// OperationPayload (RequestPayload and ResponsePayload are its two sides), its cases, the two
// PayloadSide types and the conformances of every payload type are generated from one table of
// operations: Generated/PayloadTable.swift, written by Tests/Scripts/generate-payloads.py. To
// model another operation, add a row there.

/// A typed payload of one operation, on either side: what ``PayloadSide``'s associated types
/// name.
public protocol KMIPPayload: KMIPDecodable, KMIPEncodable, Hashable, Sendable {
    /// The operation whose payload this is.
    static var operation: Operation { get }
}

/// A typed request payload of one operation.
public protocol KMIPRequestPayload: KMIPPayload {
    /// The payload wrapped in ``RequestPayload``.
    var requestPayload: RequestPayload { get }
}

/// A typed response payload of one operation.
public protocol KMIPResponsePayload: KMIPPayload {
    /// The payload wrapped in ``ResponsePayload``.
    var responsePayload: ResponsePayload { get }
}

/// A caseless type that names one operation, for the payload types several operations share
/// (``UniqueIdentifierRequest``, ``UniqueIdentifierResponse``, ``AttributeEditResponse``): the
/// kind gives the shared type its operation, so that ``ActivateRequest`` and ``DestroyRequest``
/// are one type that still knows, statically, which request it is.
public protocol KMIPOperationKind: Sendable {
    /// The operation the kind names.
    static var operation: Operation { get }
}

extension OperationPayload where Side == RequestSide {
    /// Decodes the payload at `index` as the model of `operation`, or keeps it whole.
    @inlinable
    public static func decode(
        operation: Operation,
        at index: Int,
        reader: KMIPStructureReader
    ) throws(TTLVError) -> RequestPayload {
        if let typed = try self.decodeModelled(operation: operation, at: index, reader: reader) { return typed }
        return .other(try TTLVItem(document: reader.document, index: index))
    }
}

extension OperationPayload where Side == ResponseSide {
    /// Decodes the payload at `index` as the model of `operation`, or keeps it whole.
    ///
    /// The payload of a failed item is kept whole when it does not fit the success model.
    @inlinable
    public static func decode(
        operation: Operation?,
        succeeded: Bool,
        at index: Int,
        reader: KMIPStructureReader
    ) throws(TTLVError) -> ResponsePayload {
        guard let operation else { return .other(try TTLVItem(document: reader.document, index: index)) }
        do {
            if let typed = try self.decodeModelled(operation: operation, at: index, reader: reader) { return typed }
        } catch {
            if succeeded { throw error }
        }
        return .other(try TTLVItem(document: reader.document, index: index))
    }
}
