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

/// Check request: would the object allow this use?
///
/// > Unique Identifier, Usage Limits Count, Cryptographic Usage Mask, Lease Time. "This operation
/// > requests that the server check for the use of a Managed Object according to values specified
/// > in the request."
///
/// KMIP 1.4 §4.10, KMIP 2.1 §6.1.4
public struct CheckRequest: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier?
    public var usageLimitsCount: Int64?
    public var cryptographicUsageMask: CryptographicUsageMask?
    /// Seconds.
    public var leaseTime: UInt32?

    public init(
        uniqueIdentifier: UniqueIdentifier?,
        usageLimitsCount: Int64? = nil,
        cryptographicUsageMask: CryptographicUsageMask? = nil,
        leaseTime: UInt32? = nil
    ) {
        self.uniqueIdentifier = uniqueIdentifier
        self.usageLimitsCount = usageLimitsCount
        self.cryptographicUsageMask = cryptographicUsageMask
        self.leaseTime = leaseTime
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.uniqueIdentifier()
        self.usageLimitsCount = try reader.longInteger(.usageLimitsCount)
        self.cryptographicUsageMask = try reader.integer(.cryptographicUsageMask).map { CryptographicUsageMask(rawValue: $0) }
        self.leaseTime = try reader.interval(.leaseTime)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
        encoder.write(.usageLimitsCount, longInteger: self.usageLimitsCount)
        encoder.write(.cryptographicUsageMask, integer: self.cryptographicUsageMask?.rawValue)
        encoder.write(.leaseTime, interval: self.leaseTime)
    }
}

/// Check response: the identifier, and on failure the values that did not pass.
///
///
/// KMIP 1.4 §4.10, KMIP 2.1 §6.1.4
public struct CheckResponse: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier
    public var usageLimitsCount: Int64?
    public var cryptographicUsageMask: CryptographicUsageMask?
    /// Seconds.
    public var leaseTime: UInt32?

    public init(
        uniqueIdentifier: UniqueIdentifier,
        usageLimitsCount: Int64? = nil,
        cryptographicUsageMask: CryptographicUsageMask? = nil,
        leaseTime: UInt32? = nil
    ) {
        self.uniqueIdentifier = uniqueIdentifier
        self.usageLimitsCount = usageLimitsCount
        self.cryptographicUsageMask = cryptographicUsageMask
        self.leaseTime = leaseTime
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.required(try reader.uniqueIdentifier(), .uniqueIdentifier)
        self.usageLimitsCount = try reader.longInteger(.usageLimitsCount)
        self.cryptographicUsageMask = try reader.integer(.cryptographicUsageMask).map { CryptographicUsageMask(rawValue: $0) }
        self.leaseTime = try reader.interval(.leaseTime)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
        encoder.write(.usageLimitsCount, longInteger: self.usageLimitsCount)
        encoder.write(.cryptographicUsageMask, integer: self.cryptographicUsageMask?.rawValue)
        encoder.write(.leaseTime, interval: self.leaseTime)
    }
}
