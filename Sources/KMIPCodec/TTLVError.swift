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

/// An error raised while parsing, framing or reading TTLV.
///
/// Equality compares the ``code`` only, so tests and callers can match on the kind of failure;
/// ``offset`` says where in the input it happened and ``reason`` explains it for logs.
/// No error ever carries value bytes, so key material cannot leak through one.
public struct TTLVError: Error, Hashable, Sendable {
    /// The kind of a ``TTLVError``.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: Hashable, Sendable {
            case truncated
            case invalidType
            case invalidLength
            case lengthExceedsParent
            case nonZeroPadding
            case invalidBoolean
            case invalidUTF8
            case invalidTag
            case trailingBytes
            case messageTooLarge
            case depthLimitExceeded
            case itemLimitExceeded
            case unexpectedType
            case missingField
            case unexpectedField
            case duplicateField
            case invalidValue
            case notAStructure
        }

        fileprivate var base: Base

        /// The input ends inside an item header or value.
        public static let truncated = Code(base: .truncated)
        /// The type byte is not one of the TTLV types.
        public static let invalidType = Code(base: .invalidType)
        /// The length does not fit the type: a fixed-size type with another length, a Big Integer
        /// whose length is not a positive multiple of eight, or a Structure whose length is not one either.
        public static let invalidLength = Code(base: .invalidLength)
        /// The length runs past the end of the enclosing structure.
        public static let lengthExceedsParent = Code(base: .lengthExceedsParent)
        /// Strict mode: a padding byte is not zero.
        public static let nonZeroPadding = Code(base: .nonZeroPadding)
        /// Strict mode: a Boolean is neither 0 nor 1.
        public static let invalidBoolean = Code(base: .invalidBoolean)
        /// A Text String is not valid UTF-8.
        public static let invalidUTF8 = Code(base: .invalidUTF8)
        /// Strict mode: a tag outside `0x42xxxx` and `0x54xxxx`.
        public static let invalidTag = Code(base: .invalidTag)
        /// Bytes follow the outermost item.
        public static let trailingBytes = Code(base: .trailingBytes)
        /// The message is longer than the configured maximum.
        public static let messageTooLarge = Code(base: .messageTooLarge)
        /// Structures are nested deeper than the configured maximum.
        public static let depthLimitExceeded = Code(base: .depthLimitExceeded)
        /// The message holds more items than the configured maximum.
        public static let itemLimitExceeded = Code(base: .itemLimitExceeded)
        /// A field has another type than its tag requires.
        public static let unexpectedType = Code(base: .unexpectedType)
        /// A required field is absent.
        public static let missingField = Code(base: .missingField)
        /// Strict decoding: a field the structure does not define.
        public static let unexpectedField = Code(base: .unexpectedField)
        /// A single-valued field appears twice.
        public static let duplicateField = Code(base: .duplicateField)
        /// A value is out of its allowed range.
        public static let invalidValue = Code(base: .invalidValue)
        /// A structure was expected.
        public static let notAStructure = Code(base: .notAStructure)

        public var description: String {
            switch self.base {
            case .truncated: "truncated"
            case .invalidType: "invalidType"
            case .invalidLength: "invalidLength"
            case .lengthExceedsParent: "lengthExceedsParent"
            case .nonZeroPadding: "nonZeroPadding"
            case .invalidBoolean: "invalidBoolean"
            case .invalidUTF8: "invalidUTF8"
            case .invalidTag: "invalidTag"
            case .trailingBytes: "trailingBytes"
            case .messageTooLarge: "messageTooLarge"
            case .depthLimitExceeded: "depthLimitExceeded"
            case .itemLimitExceeded: "itemLimitExceeded"
            case .unexpectedType: "unexpectedType"
            case .missingField: "missingField"
            case .unexpectedField: "unexpectedField"
            case .duplicateField: "duplicateField"
            case .invalidValue: "invalidValue"
            case .notAStructure: "notAStructure"
            }
        }
    }

    private struct Backing: Hashable, Sendable {
        var code: Code
        var offset: Int
        var tag: TTLVTag?
        var reason: String
        var file: String
        var line: UInt
    }

    private var backing: Backing

    /// The kind of failure.
    public var code: Code { self.backing.code }
    /// The byte offset in the input of the item (or header) that failed, `-1` when not known.
    public var offset: Int { self.backing.offset }
    /// The tag of the item concerned, when known.
    public var tag: TTLVTag? { self.backing.tag }
    /// A human-readable explanation. Never contains value bytes.
    public var reason: String { self.backing.reason }
    /// Where in Keystorm the error was raised.
    public var file: String { self.backing.file }
    /// Where in Keystorm the error was raised.
    public var line: UInt { self.backing.line }

    public init(
        _ code: Code,
        offset: Int,
        tag: TTLVTag? = nil,
        reason: String,
        file: String = #fileID,
        line: UInt = #line
    ) {
        self.backing = Backing(code: code, offset: offset, tag: tag, reason: reason, file: file, line: line)
    }

    public static func == (lhs: TTLVError, rhs: TTLVError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

extension TTLVError.Code {
    /// Lets callers write `catch TTLVError.truncated`.
    public static func ~= (code: TTLVError.Code, error: any Error) -> Bool {
        (error as? TTLVError)?.code == code
    }
}

extension TTLVError: CustomStringConvertible {
    public var description: String {
        var text = "TTLVError.\(self.code) at offset \(self.offset)"
        if let tag = self.tag { text += " (tag \(tag))" }
        return text + ": \(self.reason)"
    }
}

extension TTLVError {
    public static var truncated: Code { .truncated }
    public static var invalidType: Code { .invalidType }
    public static var invalidLength: Code { .invalidLength }
    public static var lengthExceedsParent: Code { .lengthExceedsParent }
    public static var nonZeroPadding: Code { .nonZeroPadding }
    public static var invalidBoolean: Code { .invalidBoolean }
    public static var invalidUTF8: Code { .invalidUTF8 }
    public static var invalidTag: Code { .invalidTag }
    public static var trailingBytes: Code { .trailingBytes }
    public static var messageTooLarge: Code { .messageTooLarge }
    public static var depthLimitExceeded: Code { .depthLimitExceeded }
    public static var itemLimitExceeded: Code { .itemLimitExceeded }
    public static var unexpectedType: Code { .unexpectedType }
    public static var missingField: Code { .missingField }
    public static var unexpectedField: Code { .unexpectedField }
    public static var duplicateField: Code { .duplicateField }
    public static var invalidValue: Code { .invalidValue }
    public static var notAStructure: Code { .notAStructure }
}
