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

/// Bounds that a parser or framer enforces before it allocates anything for an item.
///
/// The defaults fit every KMIP message a key server meets (vCenter's largest is under 1 KiB)
/// with a wide margin, and keep a hostile peer from costing more than a few megabytes.
public struct TTLVLimits: Hashable, Sendable {
    /// The largest whole message accepted, header included, in bytes.
    public var maxMessageSize: Int
    /// The deepest nesting of structures accepted; the outermost item is depth 0.
    public var maxDepth: Int
    /// The most items, of any type, accepted in one message.
    public var maxItems: Int

    public init(maxMessageSize: Int = 1 << 20, maxDepth: Int = 32, maxItems: Int = 20_000) {
        self.maxMessageSize = maxMessageSize
        self.maxDepth = maxDepth
        self.maxItems = maxItems
    }

    /// The defaults: 1 MiB, depth 32, 20,000 items.
    public static let `default` = TTLVLimits()
}

/// How strictly a parser or decoder treats input that the specification does not allow.
public enum TTLVParsingMode: Hashable, Sendable {
    /// Reject non-zero padding, Booleans other than 0/1, tags outside `0x42xxxx`/`0x54xxxx`,
    /// and, when decoding typed structures, fields the structure does not define.
    case strict
    /// Accept those, and keep unknown or vendor fields (KMIP 1.4 §11.1: same major version,
    /// ignore unknown fields) so that they can be re-encoded unchanged.
    case lenient
}
