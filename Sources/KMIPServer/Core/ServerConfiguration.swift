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
public import KMIPModel

/// What the KMIP server says about itself and the limits it enforces.
public struct KMIPServerConfiguration: Sendable {
    /// Versions answered, most preferred first (Discover Versions returns them in this order).
    public var supportedVersions: [ProtocolVersion]
    /// Vendor Identification in Query responses.
    public var vendorIdentification: String
    /// Message size, depth and item limits for requests.
    public var limits: TTLVLimits
    /// The most batch items one request may carry.
    public var maxBatchItems: Int
    /// The most objects one Locate returns, whatever Maximum Items the client asks for (and when
    /// it asks for none).
    public var maxLocateItems: Int
    /// The most objects a Locate that filters on attributes reads from the store at a time.
    public var locateScanChunk: Int

    public init(
        supportedVersions: [ProtocolVersion] = [.v2_1, .v2_0, .v1_4, .v1_3, .v1_2, .v1_1, .v1_0],
        vendorIdentification: String = "Keystorm",
        limits: TTLVLimits = .default,
        maxBatchItems: Int = 256,
        maxLocateItems: Int = 1_000,
        locateScanChunk: Int = 256
    ) {
        self.supportedVersions = supportedVersions
        self.vendorIdentification = vendorIdentification
        self.limits = limits
        self.maxBatchItems = maxBatchItems
        self.maxLocateItems = maxLocateItems
        self.locateScanChunk = locateScanChunk
    }

    /// The version to answer a request of `requested` in: the same when supported, otherwise the
    /// highest supported minor of the same major, or `nil` when the major is not supported.
    public func responseVersion(for requested: ProtocolVersion) -> ProtocolVersion? {
        if self.supportedVersions.contains(requested) { return requested }
        return self.supportedVersions.filter { $0.major == requested.major && $0 < requested }.max()
    }
}
