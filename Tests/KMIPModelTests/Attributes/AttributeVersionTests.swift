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
import Testing

/// Which standard attributes each protocol version defines.
@Suite("Attributes per protocol version")
struct AttributeVersionTests {
    static let v1_0 = ProtocolVersion(major: 1, minor: 0)

    @Test func eachKMIP1MinorVersionDefinesTheAttributesItsSpecificationLists() {
        // KMIP 1.3 §3.40: Random Number Generator. PyKMIP at 1.2 cannot decode it.
        #expect(!KMIPAttributeTags.isDefined(.randomNumberGenerator, in: .v1_2))
        #expect(KMIPAttributeTags.isDefined(.randomNumberGenerator, in: .v1_3))
        // KMIP 1.2 §3.39, KMIP 1.4 §3.44, KMIP 1.1 §3.34.
        #expect(!KMIPAttributeTags.isDefined(.originalCreationDate, in: .v1_1))
        #expect(KMIPAttributeTags.isDefined(.originalCreationDate, in: .v1_2))
        #expect(!KMIPAttributeTags.isDefined(.sensitive, in: .v1_3))
        #expect(KMIPAttributeTags.isDefined(.sensitive, in: .v1_4))
        #expect(!KMIPAttributeTags.isDefined(.fresh, in: Self.v1_0))
        #expect(KMIPAttributeTags.isDefined(.fresh, in: .v1_1))
        // KMIP 1.0 attributes are in every 1.x version.
        for version in [Self.v1_0, .v1_1, .v1_2, .v1_3, .v1_4] {
            #expect(KMIPAttributeTags.isDefined(.name, in: version))
            #expect(KMIPAttributeTags.isDefined(.cryptographicUsageMask, in: version))
            #expect(!KMIPAttributeTags.isDefined(.quantumSafe, in: version))
        }
    }

    @Test func kmip2DefinesItsOwnAttributesAndNotTheReservedOnes() {
        for version in [ProtocolVersion.v2_0, .v2_1] {
            #expect(KMIPAttributeTags.isDefined(.randomNumberGenerator, in: version))
            #expect(KMIPAttributeTags.isDefined(.quantumSafe, in: version))
            #expect(KMIPAttributeTags.isDefined(.shortUniqueIdentifier, in: version))
            #expect(!KMIPAttributeTags.isDefined(.operationPolicyName, in: version))
            #expect(!KMIPAttributeTags.isDefined(.customAttribute, in: version))
            #expect(!KMIPAttributeTags.isDefined(.certificateIdentifier, in: version))
            // Not an attribute at all.
            #expect(!KMIPAttributeTags.isDefined(.batchCount, in: version))
        }
        #expect(KMIPAttributeTags.isDefined(.operationPolicyName, in: .v1_4))
    }
}
