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
public import KeyStore

/// A managed object as the server works with it: the stored row plus its decoded attributes.
///
/// Attributes are kept in one ordered list; the 1.x Attribute Index of an instance is its position
/// among the instances with the same name. They are stored as a KMIP 2.1 Attributes structure.
public struct ObjectRecord: Sendable {
    public var stored: StoredObject
    public var attributes: [Attribute]

    public init(stored: StoredObject, attributes: [Attribute]) {
        self.stored = stored
        self.attributes = attributes
    }

    /// Decodes the attributes of a stored row.
    public init(stored: StoredObject) throws(KMIPError) {
        self.stored = stored
        do {
            let document = try TTLV.parse(stored.attributes, mode: .lenient)
            var reader = try KMIPStructureReader(
                document: document,
                index: document.root,
                context: KMIPCodingContext(version: .v2_1, mode: .lenient)
            )
            var attributes: [Attribute] = []
            for child in document.children(of: document.root) {
                attributes.append(try Attribute(taggedItemAt: child, reader: reader))
            }
            _ = try reader.unreadFields()
            self.attributes = attributes
        } catch {
            throw KMIPError(.generalFailure, "stored attributes of \(stored.uniqueIdentifier) are unreadable")
        }
    }

    /// The row to store: attributes encoded, searchable columns refreshed.
    public func encodedForStore() -> StoredObject {
        var stored = self.stored
        var encoder = KMIPEncoder(version: .v2_1)
        encoder.writeTagged(.attributes, self.attributes)
        stored.attributes = encoder.bytes
        stored.names = self.attributes.compactMap { attribute in
            guard attribute.name == .standard(.name), case .structure(let fields) = attribute.value,
                case .textString(let value)? = fields.first(where: { $0.tag == .nameValue })?.value
            else { return nil }
            return value
        }
        if case .enumeration(let state)? = self.first(.standard(.state))?.value { stored.state = state }
        return stored
    }

    public var uniqueIdentifier: String { self.stored.uniqueIdentifier }
    public var objectType: ObjectType { ObjectType(rawValue: self.stored.objectType) }
    public var state: State { State(rawValue: self.stored.state) }

    // MARK: Attribute access

    /// Every instance of an attribute, in index order.
    public func all(_ name: AttributeName) -> [Attribute] {
        self.attributes.filter { $0.name == name }
    }

    /// The first instance of an attribute.
    public func first(_ name: AttributeName) -> Attribute? {
        self.attributes.first { $0.name == name }
    }

    /// The instance with 1.x index `index`.
    public func instance(_ name: AttributeName, index: Int) -> Attribute? {
        let instances = self.all(name)
        return index >= 0 && index < instances.count ? instances[index] : nil
    }

    /// Replaces every instance of a single-valued attribute with `value`.
    public mutating func set(_ tag: TTLVTag, _ value: TTLVValue) {
        self.set(.standard(tag), value)
    }

    /// Replaces every instance of an attribute with one holding `value`, keeping its position.
    public mutating func set(_ name: AttributeName, _ value: TTLVValue) {
        if let position = self.attributes.firstIndex(where: { $0.name == name }) {
            var kept: [Attribute] = []
            kept.reserveCapacity(self.attributes.count)
            for (i, attribute) in self.attributes.enumerated() {
                if i == position {
                    kept.append(Attribute(name, value))
                } else if attribute.name != name {
                    kept.append(attribute)
                }
            }
            self.attributes = kept
        } else {
            self.attributes.append(Attribute(name, value))
        }
    }

    /// Adds an instance after the existing ones and returns its index.
    @discardableResult
    public mutating func add(_ name: AttributeName, _ value: TTLVValue) -> Int {
        let index = self.all(name).count
        if let last = self.attributes.lastIndex(where: { $0.name == name }) {
            self.attributes.insert(Attribute(name, value), at: last + 1)
        } else {
            self.attributes.append(Attribute(name, value))
        }
        return index
    }

    /// Replaces instance `index`; returns whether it existed.
    public mutating func replace(_ name: AttributeName, index: Int, with value: TTLVValue) -> Bool {
        var seen = 0
        for position in self.attributes.indices where self.attributes[position].name == name {
            if seen == index {
                self.attributes[position].value = value
                return true
            }
            seen += 1
        }
        return false
    }

    /// Removes instance `index` (or every instance when `index` is nil); returns what was removed.
    public mutating func remove(_ name: AttributeName, index: Int?) -> [Attribute] {
        var removed: [Attribute] = []
        var seen = 0
        self.attributes.removeAll { attribute in
            guard attribute.name == name else { return false }
            defer { seen += 1 }
            if index == nil || index == seen {
                removed.append(attribute)
                return true
            }
            return false
        }
        return removed
    }

    /// Sets State and Last Change Date together.
    public mutating func transition(to state: State, now: Int64) {
        self.set(.state, .enumeration(state.rawValue))
        self.stored.state = state.rawValue
        self.touch(now)
    }

    /// Records a change: Last Change Date and the row's update time.
    public mutating func touch(_ now: Int64) {
        self.set(.lastChangeDate, .dateTime(now))
        self.stored.updatedAt = now
    }

    /// The attributes as the client of `version` may see them: attributes that the version does
    /// not define are left out (a 1.0 client must not receive Fresh; Cosmian KMS issue 687), and the
    /// 1.x index is attached to instances after the first.
    public func visibleAttributes(for version: ProtocolVersion) -> [Attribute] {
        var counts: [AttributeName: Int32] = [:]
        var visible: [Attribute] = []
        for attribute in self.attributes where Self.isDefined(attribute.name, in: version) {
            var copy = attribute
            let index = counts[attribute.name, default: 0]
            counts[attribute.name] = index + 1
            copy.index = (version.major < 2 && index > 0) ? index : nil
            visible.append(copy)
        }
        return visible
    }

    /// Whether `version` knows the attribute: clients see only the standard attributes their
    /// protocol version defines (see ``KMIPAttributeTags/isDefined(_:in:)``), so that a KMIP 1.2
    /// client is not sent the 1.3 Random Number Generator; custom and vendor attributes are
    /// always shown.
    public static func isDefined(_ name: AttributeName, in version: ProtocolVersion) -> Bool {
        guard case .standard(let tag) = name else { return true }
        return KMIPAttributeTags.isDefined(tag, in: version)
    }
}
