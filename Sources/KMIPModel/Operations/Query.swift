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

/// Query request: which kinds of information the client asks for.
///
/// > "This operation is used by the client to interrogate the server to determine its
/// > capabilities and/or protocol mechanisms."
///
/// KMIP 1.4 §4.25, KMIP 2.1 §6.1.37
public struct QueryRequest: Hashable, Sendable {
    public var queryFunctions: [QueryFunction]

    public init(queryFunctions: [QueryFunction]) {
        self.queryFunctions = queryFunctions
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.queryFunctions = try reader.enumerations(.queryFunction)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.queryFunction, self.queryFunctions)
    }
}

/// Query response: what the server supports.
///
/// > Operation*, Object Type*, Vendor Identification, Server Information, Application Namespace*,
/// > Extension Information*, Attestation Type*, RNG Parameters*, Profile Information*, Validation
/// > Information*, Capability Information*, Client Registration Method*, Defaults Information (2.x),
/// > Protection Storage Masks (2.x).
///
/// The structured answers (Server Information, Profile Information, ...) are kept whole.
///
/// KMIP 1.4 §4.25, KMIP 2.1 §6.1.37
public struct QueryResponse: Hashable, Sendable {
    public var operations: [Operation]
    public var objectTypes: [ObjectType]
    public var vendorIdentification: String?
    public var serverInformation: TTLVItem?
    public var applicationNamespaces: [String]
    public var extensionInformation: [TTLVItem]
    public var attestationTypes: [AttestationType]
    public var rngParameters: [TTLVItem]
    public var profileInformation: [TTLVItem]
    public var validationInformation: [TTLVItem]
    public var capabilityInformation: [TTLVItem]
    public var clientRegistrationMethods: [ClientRegistrationMethod]
    public var defaultsInformation: TTLVItem?
    public var protectionStorageMasks: TTLVItem?

    public init(
        operations: [Operation] = [],
        objectTypes: [ObjectType] = [],
        vendorIdentification: String? = nil,
        serverInformation: TTLVItem? = nil
    ) {
        self.operations = operations
        self.objectTypes = objectTypes
        self.vendorIdentification = vendorIdentification
        self.serverInformation = serverInformation
        self.applicationNamespaces = []
        self.extensionInformation = []
        self.attestationTypes = []
        self.rngParameters = []
        self.profileInformation = []
        self.validationInformation = []
        self.capabilityInformation = []
        self.clientRegistrationMethods = []
        self.defaultsInformation = nil
        self.protectionStorageMasks = nil
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.operations = try reader.enumerations(.operation)
        self.objectTypes = try reader.enumerations(.objectType)
        self.vendorIdentification = try reader.textString(.vendorIdentification)
        self.serverInformation = try reader.item(.serverInformation)
        self.applicationNamespaces = try reader.textStrings(.applicationNamespace)
        self.extensionInformation = try reader.items(.extensionInformation)
        self.attestationTypes = try reader.enumerations(.attestationType)
        self.rngParameters = try reader.items(.rngParameters)
        self.profileInformation = try reader.items(.profileInformation)
        self.validationInformation = try reader.items(.validationInformation)
        self.capabilityInformation = try reader.items(.capabilityInformation)
        self.clientRegistrationMethods = try reader.enumerations(.clientRegistrationMethod)
        self.defaultsInformation = try reader.item(.defaultsInformation)
        self.protectionStorageMasks = try reader.item(.protectionStorageMasks)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.operation, self.operations)
        encoder.write(.objectType, self.objectTypes)
        encoder.write(.vendorIdentification, text: self.vendorIdentification)
        encoder.write(self.serverInformation)
        encoder.write(.applicationNamespace, texts: self.applicationNamespaces)
        encoder.write(self.extensionInformation)
        encoder.write(.attestationType, self.attestationTypes)
        encoder.write(self.rngParameters)
        encoder.write(self.profileInformation)
        encoder.write(self.validationInformation)
        encoder.write(self.capabilityInformation)
        encoder.write(.clientRegistrationMethod, self.clientRegistrationMethods)
        encoder.write(self.defaultsInformation)
        encoder.write(self.protectionStorageMasks)
    }
}
