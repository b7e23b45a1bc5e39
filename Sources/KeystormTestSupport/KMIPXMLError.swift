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

/// An error raised while converting a KMIP XML test case into TTLV.
///
/// Equality compares the ``code`` only; ``line`` is the line in the XML file and ``reason``
/// explains the failure.
public struct KMIPXMLError: Error, Hashable, Sendable {
    /// The kind of a ``KMIPXMLError``.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: Hashable, Sendable {
            case malformedXML
            case unexpectedElement
            case unknownTag
            case unknownType
            case invalidValue
            case unresolvedName
            case substitutionTypeMismatch
        }

        fileprivate var base: Base

        /// The document is not well-formed XML, or cannot be read.
        public static let malformedXML = Code(base: .malformedXML)
        /// An element appears where the KMIP XML profile does not allow it.
        public static let unexpectedElement = Code(base: .unexpectedElement)
        /// An element name is not the XML name of any KMIP tag.
        public static let unknownTag = Code(base: .unknownTag)
        /// A `type` attribute is not one of the TTLV type names.
        public static let unknownType = Code(base: .unknownType)
        /// A `value` attribute cannot be read as its type.
        public static let invalidValue = Code(base: .invalidValue)
        /// An enumeration value or mask bit name has no definition for its tag.
        public static let unresolvedName = Code(base: .unresolvedName)
        /// A caller-supplied placeholder value has another type than the element.
        public static let substitutionTypeMismatch = Code(base: .substitutionTypeMismatch)

        public var description: String {
            switch self.base {
            case .malformedXML: "malformedXML"
            case .unexpectedElement: "unexpectedElement"
            case .unknownTag: "unknownTag"
            case .unknownType: "unknownType"
            case .invalidValue: "invalidValue"
            case .unresolvedName: "unresolvedName"
            case .substitutionTypeMismatch: "substitutionTypeMismatch"
            }
        }
    }

    private struct Backing: Hashable, Sendable {
        var code: Code
        var line: Int
        var reason: String
        var file: String
        var sourceLine: UInt
    }

    private var backing: Backing

    /// The kind of failure.
    public var code: Code { self.backing.code }
    /// The line of the XML document where the failing element starts, `0` when not known.
    public var line: Int { self.backing.line }
    /// A human-readable explanation.
    public var reason: String { self.backing.reason }
    /// Where in Keystorm the error was raised.
    public var file: String { self.backing.file }
    /// Where in Keystorm the error was raised.
    public var sourceLine: UInt { self.backing.sourceLine }

    public init(_ code: Code, line: Int, reason: String, file: String = #fileID, sourceLine: UInt = #line) {
        self.backing = Backing(code: code, line: line, reason: reason, file: file, sourceLine: sourceLine)
    }

    public static func == (lhs: KMIPXMLError, rhs: KMIPXMLError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

extension KMIPXMLError.Code {
    /// Lets callers write `catch KMIPXMLError.unresolvedName`.
    public static func ~= (code: KMIPXMLError.Code, error: any Error) -> Bool {
        (error as? KMIPXMLError)?.code == code
    }
}

extension KMIPXMLError: CustomStringConvertible {
    public var description: String {
        "KMIPXMLError.\(self.code) at line \(self.line): \(self.reason)"
    }
}

extension KMIPXMLError {
    public static var malformedXML: Code { .malformedXML }
    public static var unexpectedElement: Code { .unexpectedElement }
    public static var unknownTag: Code { .unknownTag }
    public static var unknownType: Code { .unknownType }
    public static var invalidValue: Code { .invalidValue }
    public static var unresolvedName: Code { .unresolvedName }
    public static var substitutionTypeMismatch: Code { .substitutionTypeMismatch }
}
