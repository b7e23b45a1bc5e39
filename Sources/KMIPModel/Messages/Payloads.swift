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

/// A typed request payload of one operation.
public protocol KMIPRequestPayload: KMIPDecodable, KMIPEncodable, Hashable, Sendable {
    /// The operation whose request this is.
    static var operation: Operation { get }
    /// The payload wrapped in ``RequestPayload``.
    var requestPayload: RequestPayload { get }
}

/// A typed response payload of one operation.
public protocol KMIPResponsePayload: KMIPDecodable, KMIPEncodable, Hashable, Sendable {
    /// The operation whose response this is.
    static var operation: Operation { get }
    /// The payload wrapped in ``ResponsePayload``.
    var responsePayload: ResponsePayload { get }
}

/// The payload of a request batch item, typed for the operations Keystorm models.
///
/// Operations without a model (Create Key Pair, Encrypt, RNG Retrieve, ...) keep their payload as
/// ``other(_:)``, the whole Request Payload item, which re-encodes unchanged.
public enum RequestPayload: Hashable, Sendable {
    case discoverVersions(DiscoverVersionsRequest)
    case query(QueryRequest)
    case create(CreateRequest)
    case register(RegisterRequest)
    case get(GetRequest)
    case getAttributes(GetAttributesRequest)
    case getAttributeList(GetAttributeListRequest)
    case addAttribute(AddAttributeRequest)
    case modifyAttribute(ModifyAttributeRequest)
    case deleteAttribute(DeleteAttributeRequest)
    case setAttribute(SetAttributeRequest)
    case locate(LocateRequest)
    case activate(ActivateRequest)
    case revoke(RevokeRequest)
    case destroy(DestroyRequest)
    case reKey(ReKeyRequest)
    case check(CheckRequest)
    /// An operation Keystorm does not model: the Request Payload structure as received.
    case other(TTLVItem)

    /// The operation this payload belongs to, or `nil` for ``other(_:)``.
    public var operation: Operation? {
        switch self {
        case .discoverVersions: .discoverVersions
        case .query: .query
        case .create: .create
        case .register: .register
        case .get: .get
        case .getAttributes: .getAttributes
        case .getAttributeList: .getAttributeList
        case .addAttribute: .addAttribute
        case .modifyAttribute: .modifyAttribute
        case .deleteAttribute: .deleteAttribute
        case .setAttribute: .setAttribute
        case .locate: .locate
        case .activate: .activate
        case .revoke: .revoke
        case .destroy: .destroy
        case .reKey: .reKey
        case .check: .check
        case .other: nil
        }
    }

    /// Writes the payload under the Request Payload tag.
    public func encode(to encoder: inout KMIPEncoder) {
        switch self {
        case .discoverVersions(let p): encoder.write(.requestPayload, p)
        case .query(let p): encoder.write(.requestPayload, p)
        case .create(let p): encoder.write(.requestPayload, p)
        case .register(let p): encoder.write(.requestPayload, p)
        case .get(let p): encoder.write(.requestPayload, p)
        case .getAttributes(let p): encoder.write(.requestPayload, p)
        case .getAttributeList(let p): encoder.write(.requestPayload, p)
        case .addAttribute(let p): encoder.write(.requestPayload, p)
        case .modifyAttribute(let p): encoder.write(.requestPayload, p)
        case .deleteAttribute(let p): encoder.write(.requestPayload, p)
        case .setAttribute(let p): encoder.write(.requestPayload, p)
        case .locate(let p): encoder.write(.requestPayload, p)
        case .activate(let p): encoder.write(.requestPayload, p)
        case .revoke(let p): encoder.write(.requestPayload, p)
        case .destroy(let p): encoder.write(.requestPayload, p)
        case .reKey(let p): encoder.write(.requestPayload, p)
        case .check(let p): encoder.write(.requestPayload, p)
        case .other(let item): encoder.write(item)
        }
    }

    /// Decodes the payload at `index` as the model of `operation`, or keeps it whole.
    public static func decode(
        operation: Operation,
        at index: Int,
        reader: KMIPStructureReader
    ) throws(TTLVError) -> RequestPayload {
        switch operation {
        case .discoverVersions: .discoverVersions(try reader.decode(DiscoverVersionsRequest.self, at: index))
        case .query: .query(try reader.decode(QueryRequest.self, at: index))
        case .create: .create(try reader.decode(CreateRequest.self, at: index))
        case .register: .register(try reader.decode(RegisterRequest.self, at: index))
        case .get: .get(try reader.decode(GetRequest.self, at: index))
        case .getAttributes: .getAttributes(try reader.decode(GetAttributesRequest.self, at: index))
        case .getAttributeList: .getAttributeList(try reader.decode(GetAttributeListRequest.self, at: index))
        case .addAttribute: .addAttribute(try reader.decode(AddAttributeRequest.self, at: index))
        case .modifyAttribute: .modifyAttribute(try reader.decode(ModifyAttributeRequest.self, at: index))
        case .deleteAttribute: .deleteAttribute(try reader.decode(DeleteAttributeRequest.self, at: index))
        case .setAttribute: .setAttribute(try reader.decode(SetAttributeRequest.self, at: index))
        case .locate: .locate(try reader.decode(LocateRequest.self, at: index))
        case .activate: .activate(try reader.decode(ActivateRequest.self, at: index))
        case .revoke: .revoke(try reader.decode(RevokeRequest.self, at: index))
        case .destroy: .destroy(try reader.decode(DestroyRequest.self, at: index))
        case .reKey: .reKey(try reader.decode(ReKeyRequest.self, at: index))
        case .check: .check(try reader.decode(CheckRequest.self, at: index))
        default: .other(try TTLVItem(document: reader.document, index: index))
        }
    }
}

/// The payload of a response batch item, typed for the operations Keystorm models.
///
/// Operations without a model (Create Key Pair, Encrypt, RNG Retrieve, ...) keep their payload as
/// ``other(_:)``, the whole Response Payload item, which re-encodes unchanged.
public enum ResponsePayload: Hashable, Sendable {
    case discoverVersions(DiscoverVersionsResponse)
    case query(QueryResponse)
    case create(CreateResponse)
    case register(RegisterResponse)
    case get(GetResponse)
    case getAttributes(GetAttributesResponse)
    case getAttributeList(GetAttributeListResponse)
    case addAttribute(AddAttributeResponse)
    case modifyAttribute(ModifyAttributeResponse)
    case deleteAttribute(DeleteAttributeResponse)
    case setAttribute(SetAttributeResponse)
    case locate(LocateResponse)
    case activate(ActivateResponse)
    case revoke(RevokeResponse)
    case destroy(DestroyResponse)
    case reKey(ReKeyResponse)
    case check(CheckResponse)
    /// An operation Keystorm does not model: the Response Payload structure as received.
    case other(TTLVItem)

    /// The operation this payload belongs to, or `nil` for ``other(_:)``.
    public var operation: Operation? {
        switch self {
        case .discoverVersions: .discoverVersions
        case .query: .query
        case .create: .create
        case .register: .register
        case .get: .get
        case .getAttributes: .getAttributes
        case .getAttributeList: .getAttributeList
        case .addAttribute: .addAttribute
        case .modifyAttribute: .modifyAttribute
        case .deleteAttribute: .deleteAttribute
        case .setAttribute: .setAttribute
        case .locate: .locate
        case .activate: .activate
        case .revoke: .revoke
        case .destroy: .destroy
        case .reKey: .reKey
        case .check: .check
        case .other: nil
        }
    }

    /// Writes the payload under the Response Payload tag.
    public func encode(to encoder: inout KMIPEncoder) {
        switch self {
        case .discoverVersions(let p): encoder.write(.responsePayload, p)
        case .query(let p): encoder.write(.responsePayload, p)
        case .create(let p): encoder.write(.responsePayload, p)
        case .register(let p): encoder.write(.responsePayload, p)
        case .get(let p): encoder.write(.responsePayload, p)
        case .getAttributes(let p): encoder.write(.responsePayload, p)
        case .getAttributeList(let p): encoder.write(.responsePayload, p)
        case .addAttribute(let p): encoder.write(.responsePayload, p)
        case .modifyAttribute(let p): encoder.write(.responsePayload, p)
        case .deleteAttribute(let p): encoder.write(.responsePayload, p)
        case .setAttribute(let p): encoder.write(.responsePayload, p)
        case .locate(let p): encoder.write(.responsePayload, p)
        case .activate(let p): encoder.write(.responsePayload, p)
        case .revoke(let p): encoder.write(.responsePayload, p)
        case .destroy(let p): encoder.write(.responsePayload, p)
        case .reKey(let p): encoder.write(.responsePayload, p)
        case .check(let p): encoder.write(.responsePayload, p)
        case .other(let item): encoder.write(item)
        }
    }

    /// Decodes the payload at `index` as the model of `operation`, or keeps it whole.
    ///
    /// The payload of a failed item is kept whole when it does not fit the success model.
    public static func decode(
        operation: Operation?,
        succeeded: Bool,
        at index: Int,
        reader: KMIPStructureReader
    ) throws(TTLVError) -> ResponsePayload {
        guard let operation else { return .other(try TTLVItem(document: reader.document, index: index)) }
        do {
            return try self.decodeTyped(operation: operation, at: index, reader: reader)
        } catch {
            if succeeded { throw error }
            return .other(try TTLVItem(document: reader.document, index: index))
        }
    }

    private static func decodeTyped(
        operation: Operation,
        at index: Int,
        reader: KMIPStructureReader
    ) throws(TTLVError) -> ResponsePayload {
        switch operation {
        case .discoverVersions: .discoverVersions(try reader.decode(DiscoverVersionsResponse.self, at: index))
        case .query: .query(try reader.decode(QueryResponse.self, at: index))
        case .create: .create(try reader.decode(CreateResponse.self, at: index))
        case .register: .register(try reader.decode(RegisterResponse.self, at: index))
        case .get: .get(try reader.decode(GetResponse.self, at: index))
        case .getAttributes: .getAttributes(try reader.decode(GetAttributesResponse.self, at: index))
        case .getAttributeList: .getAttributeList(try reader.decode(GetAttributeListResponse.self, at: index))
        case .addAttribute: .addAttribute(try reader.decode(AddAttributeResponse.self, at: index))
        case .modifyAttribute: .modifyAttribute(try reader.decode(ModifyAttributeResponse.self, at: index))
        case .deleteAttribute: .deleteAttribute(try reader.decode(DeleteAttributeResponse.self, at: index))
        case .setAttribute: .setAttribute(try reader.decode(SetAttributeResponse.self, at: index))
        case .locate: .locate(try reader.decode(LocateResponse.self, at: index))
        case .activate: .activate(try reader.decode(ActivateResponse.self, at: index))
        case .revoke: .revoke(try reader.decode(RevokeResponse.self, at: index))
        case .destroy: .destroy(try reader.decode(DestroyResponse.self, at: index))
        case .reKey: .reKey(try reader.decode(ReKeyResponse.self, at: index))
        case .check: .check(try reader.decode(CheckResponse.self, at: index))
        default: .other(try TTLVItem(document: reader.document, index: index))
        }
    }
}

extension DiscoverVersionsRequest: KMIPRequestPayload {
    public static var operation: Operation { .discoverVersions }
    public var requestPayload: RequestPayload { .discoverVersions(self) }
}

extension DiscoverVersionsResponse: KMIPResponsePayload {
    public static var operation: Operation { .discoverVersions }
    public var responsePayload: ResponsePayload { .discoverVersions(self) }
}

extension QueryRequest: KMIPRequestPayload {
    public static var operation: Operation { .query }
    public var requestPayload: RequestPayload { .query(self) }
}

extension QueryResponse: KMIPResponsePayload {
    public static var operation: Operation { .query }
    public var responsePayload: ResponsePayload { .query(self) }
}

extension CreateRequest: KMIPRequestPayload {
    public static var operation: Operation { .create }
    public var requestPayload: RequestPayload { .create(self) }
}

extension CreateResponse: KMIPResponsePayload {
    public static var operation: Operation { .create }
    public var responsePayload: ResponsePayload { .create(self) }
}

extension RegisterRequest: KMIPRequestPayload {
    public static var operation: Operation { .register }
    public var requestPayload: RequestPayload { .register(self) }
}

extension RegisterResponse: KMIPResponsePayload {
    public static var operation: Operation { .register }
    public var responsePayload: ResponsePayload { .register(self) }
}

extension GetRequest: KMIPRequestPayload {
    public static var operation: Operation { .get }
    public var requestPayload: RequestPayload { .get(self) }
}

extension GetResponse: KMIPResponsePayload {
    public static var operation: Operation { .get }
    public var responsePayload: ResponsePayload { .get(self) }
}

extension GetAttributesRequest: KMIPRequestPayload {
    public static var operation: Operation { .getAttributes }
    public var requestPayload: RequestPayload { .getAttributes(self) }
}

extension GetAttributesResponse: KMIPResponsePayload {
    public static var operation: Operation { .getAttributes }
    public var responsePayload: ResponsePayload { .getAttributes(self) }
}

extension GetAttributeListRequest: KMIPRequestPayload {
    public static var operation: Operation { .getAttributeList }
    public var requestPayload: RequestPayload { .getAttributeList(self) }
}

extension GetAttributeListResponse: KMIPResponsePayload {
    public static var operation: Operation { .getAttributeList }
    public var responsePayload: ResponsePayload { .getAttributeList(self) }
}

extension AddAttributeRequest: KMIPRequestPayload {
    public static var operation: Operation { .addAttribute }
    public var requestPayload: RequestPayload { .addAttribute(self) }
}

extension AddAttributeResponse: KMIPResponsePayload {
    public static var operation: Operation { .addAttribute }
    public var responsePayload: ResponsePayload { .addAttribute(self) }
}

extension ModifyAttributeRequest: KMIPRequestPayload {
    public static var operation: Operation { .modifyAttribute }
    public var requestPayload: RequestPayload { .modifyAttribute(self) }
}

extension ModifyAttributeResponse: KMIPResponsePayload {
    public static var operation: Operation { .modifyAttribute }
    public var responsePayload: ResponsePayload { .modifyAttribute(self) }
}

extension DeleteAttributeRequest: KMIPRequestPayload {
    public static var operation: Operation { .deleteAttribute }
    public var requestPayload: RequestPayload { .deleteAttribute(self) }
}

extension DeleteAttributeResponse: KMIPResponsePayload {
    public static var operation: Operation { .deleteAttribute }
    public var responsePayload: ResponsePayload { .deleteAttribute(self) }
}

extension SetAttributeRequest: KMIPRequestPayload {
    public static var operation: Operation { .setAttribute }
    public var requestPayload: RequestPayload { .setAttribute(self) }
}

extension SetAttributeResponse: KMIPResponsePayload {
    public static var operation: Operation { .setAttribute }
    public var responsePayload: ResponsePayload { .setAttribute(self) }
}

extension LocateRequest: KMIPRequestPayload {
    public static var operation: Operation { .locate }
    public var requestPayload: RequestPayload { .locate(self) }
}

extension LocateResponse: KMIPResponsePayload {
    public static var operation: Operation { .locate }
    public var responsePayload: ResponsePayload { .locate(self) }
}

extension ActivateRequest: KMIPRequestPayload {
    public static var operation: Operation { .activate }
    public var requestPayload: RequestPayload { .activate(self) }
}

extension ActivateResponse: KMIPResponsePayload {
    public static var operation: Operation { .activate }
    public var responsePayload: ResponsePayload { .activate(self) }
}

extension RevokeRequest: KMIPRequestPayload {
    public static var operation: Operation { .revoke }
    public var requestPayload: RequestPayload { .revoke(self) }
}

extension RevokeResponse: KMIPResponsePayload {
    public static var operation: Operation { .revoke }
    public var responsePayload: ResponsePayload { .revoke(self) }
}

extension DestroyRequest: KMIPRequestPayload {
    public static var operation: Operation { .destroy }
    public var requestPayload: RequestPayload { .destroy(self) }
}

extension DestroyResponse: KMIPResponsePayload {
    public static var operation: Operation { .destroy }
    public var responsePayload: ResponsePayload { .destroy(self) }
}

extension ReKeyRequest: KMIPRequestPayload {
    public static var operation: Operation { .reKey }
    public var requestPayload: RequestPayload { .reKey(self) }
}

extension ReKeyResponse: KMIPResponsePayload {
    public static var operation: Operation { .reKey }
    public var responsePayload: ResponsePayload { .reKey(self) }
}

extension CheckRequest: KMIPRequestPayload {
    public static var operation: Operation { .check }
    public var requestPayload: RequestPayload { .check(self) }
}

extension CheckResponse: KMIPResponsePayload {
    public static var operation: Operation { .check }
    public var responsePayload: ResponsePayload { .check(self) }
}
