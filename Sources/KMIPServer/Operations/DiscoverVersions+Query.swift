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

extension KMIPServerCore {
    /// Discover Versions: every supported version, most preferred first; when the client lists
    /// versions, those of them Keystorm supports, in the client's order (an empty list when none).
    ///
    /// KMIP 1.4 §4.26
    func discoverVersions(_ request: DiscoverVersionsRequest) -> DiscoverVersionsResponse {
        let supported = self.configuration.supportedVersions
        guard !request.protocolVersions.isEmpty else { return DiscoverVersionsResponse(protocolVersions: supported) }
        return DiscoverVersionsResponse(protocolVersions: request.protocolVersions.filter { supported.contains($0) })
    }

    /// Query: operations, object types, server information and capabilities, as asked; other
    /// query functions (application namespaces, extensions, RNGs, profiles, ...) have nothing to
    /// report and are answered with nothing.
    ///
    /// KMIP 1.4 §4.25
    func query(_ request: QueryRequest, context: RequestContext) -> QueryResponse {
        var response = QueryResponse()
        for function in request.queryFunctions {
            switch function {
            case .queryOperations: response.operations = Self.supportedOperations + (context.version.major >= 2 ? [.setAttribute] : [])
            case .queryObjects: response.objectTypes = [.symmetricKey, .secretData, .opaqueObject] + Self.storedObjectTypes.sorted { $0.rawValue < $1.rawValue }
            case .queryServerInformation: response.vendorIdentification = self.configuration.vendorIdentification
            case .queryCapabilities where context.version >= .v1_3:
                // KMIP 1.4 §2.1.28: no streaming, no asynchronous answers, no attestation; batches
                // may Continue but not Undo (1.4 fields only for 1.4 and later).
                var fields = [
                    TTLVItem(.streamingCapability, .boolean(false)),
                    TTLVItem(.asynchronousCapability, .boolean(false)),
                    TTLVItem(.attestationCapability, .boolean(false)),
                ]
                if context.version >= .v1_4 {
                    fields += [TTLVItem(.batchUndoCapability, .boolean(false)), TTLVItem(.batchContinueCapability, .boolean(true))]
                }
                response.capabilityInformation = [TTLVItem(.capabilityInformation, .structure(fields))]
            default: break
            }
        }
        return response
    }
}
