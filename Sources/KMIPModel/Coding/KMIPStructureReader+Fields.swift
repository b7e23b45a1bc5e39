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

extension KMIPStructureReader {
    /// Reads an optional single Integer field.
    public mutating func integer(_ tag: TTLVTag) throws(TTLVError) -> Int32? {
        guard let i = try self.takeSingle(tag) else { return nil }
        return try self.document.integer(i)
    }

    /// Reads an optional single Long Integer field.
    public mutating func longInteger(_ tag: TTLVTag) throws(TTLVError) -> Int64? {
        guard let i = try self.takeSingle(tag) else { return nil }
        return try self.document.longInteger(i)
    }

    /// Reads an optional single Boolean field.
    public mutating func boolean(_ tag: TTLVTag) throws(TTLVError) -> Bool? {
        guard let i = try self.takeSingle(tag) else { return nil }
        return try self.document.boolean(i)
    }

    /// Reads an optional single Text String field.
    public mutating func textString(_ tag: TTLVTag) throws(TTLVError) -> String? {
        guard let i = try self.takeSingle(tag) else { return nil }
        return try self.document.textString(i)
    }

    /// Reads an optional single Byte String field.
    public mutating func byteString(_ tag: TTLVTag) throws(TTLVError) -> [UInt8]? {
        guard let i = try self.takeSingle(tag) else { return nil }
        return try self.document.byteString(i)
    }

    /// Reads an optional single Date-Time field (seconds since the epoch).
    public mutating func dateTime(_ tag: TTLVTag) throws(TTLVError) -> Int64? {
        guard let i = try self.takeSingle(tag) else { return nil }
        return try self.document.dateTime(i)
    }

    /// Reads an optional single Interval field (seconds).
    public mutating func interval(_ tag: TTLVTag) throws(TTLVError) -> UInt32? {
        guard let i = try self.takeSingle(tag) else { return nil }
        return try self.document.interval(i)
    }

    /// Reads an optional single Enumeration field as `E`.
    public mutating func enumeration<E: KMIPEnumeration>(_ tag: TTLVTag, as type: E.Type = E.self) throws(TTLVError) -> E? {
        guard let i = try self.takeSingle(tag) else { return nil }
        return E(rawValue: try self.document.enumeration(i))
    }

    /// Reads every Enumeration field with `tag` as `E`.
    public mutating func enumerations<E: KMIPEnumeration>(_ tag: TTLVTag, as type: E.Type = E.self) throws(TTLVError) -> [E] {
        var values: [E] = []
        for i in self.takeAll(tag) { values.append(E(rawValue: try self.document.enumeration(i))) }
        return values
    }

    /// Reads every Text String field with `tag`.
    public mutating func textStrings(_ tag: TTLVTag) throws(TTLVError) -> [String] {
        var values: [String] = []
        for i in self.takeAll(tag) { values.append(try self.document.textString(i)) }
        return values
    }

    /// Reads an optional single structure field as `T`.
    public mutating func decode<T: KMIPDecodable>(_ tag: TTLVTag, as type: T.Type = T.self) throws(TTLVError) -> T? {
        guard let i = try self.takeSingle(tag) else { return nil }
        return try self.decode(T.self, at: i)
    }

    /// Reads a required single structure field as `T`.
    public mutating func decodeRequired<T: KMIPDecodable>(_ tag: TTLVTag, as type: T.Type = T.self) throws(TTLVError) -> T {
        try self.decode(T.self, at: try self.require(tag))
    }

    /// Reads every structure field with `tag` as `T`.
    public mutating func decodeAll<T: KMIPDecodable>(_ tag: TTLVTag, as type: T.Type = T.self) throws(TTLVError) -> [T] {
        var values: [T] = []
        for i in self.takeAll(tag) { values.append(try self.decode(T.self, at: i)) }
        return values
    }

    /// Reads an optional single field of any type as an owned item.
    public mutating func item(_ tag: TTLVTag) throws(TTLVError) -> TTLVItem? {
        guard let i = try self.takeSingle(tag) else { return nil }
        return try TTLVItem(document: self.document, index: i)
    }

    /// Reads every field with `tag` as owned items.
    public mutating func items(_ tag: TTLVTag) throws(TTLVError) -> [TTLVItem] {
        var values: [TTLVItem] = []
        for i in self.takeAll(tag) { values.append(try TTLVItem(document: self.document, index: i)) }
        return values
    }

    /// Raises `missingField` for a required field that is absent.
    public func required<T>(_ value: T?, _ tag: TTLVTag) throws(TTLVError) -> T {
        guard let value else {
            throw TTLVError(.missingField, offset: self.offset, tag: tag, reason: "required field \(tag) is missing")
        }
        return value
    }
}

extension KMIPEncoder {
    /// Writes an Integer when present.
    public mutating func write(_ tag: TTLVTag, integer value: Int32?) {
        if let value { self.serializer.writeInteger(tag, value) }
    }

    /// Writes a Long Integer when present.
    public mutating func write(_ tag: TTLVTag, longInteger value: Int64?) {
        if let value { self.serializer.writeLongInteger(tag, value) }
    }

    /// Writes a Boolean when present.
    public mutating func write(_ tag: TTLVTag, boolean value: Bool?) {
        if let value { self.serializer.writeBoolean(tag, value) }
    }

    /// Writes a Text String when present.
    public mutating func write(_ tag: TTLVTag, text value: String?) {
        if let value { self.serializer.writeTextString(tag, value) }
    }

    /// Writes a Byte String when present.
    public mutating func write(_ tag: TTLVTag, bytes value: [UInt8]?) {
        if let value { self.serializer.writeByteString(tag, value) }
    }

    /// Writes a Date-Time when present.
    public mutating func write(_ tag: TTLVTag, dateTime value: Int64?) {
        if let value { self.serializer.writeDateTime(tag, value) }
    }

    /// Writes an Interval when present.
    public mutating func write(_ tag: TTLVTag, interval value: UInt32?) {
        if let value { self.serializer.writeInterval(tag, value) }
    }

    /// Writes an Enumeration when present.
    public mutating func write<E: KMIPEnumeration>(_ tag: TTLVTag, _ value: E?) {
        if let value { self.serializer.writeEnumeration(tag, value.rawValue) }
    }

    /// Writes every Enumeration in order.
    public mutating func write<E: KMIPEnumeration>(_ tag: TTLVTag, _ values: [E]) {
        for value in values { self.serializer.writeEnumeration(tag, value.rawValue) }
    }

    /// Writes every Text String in order.
    public mutating func write(_ tag: TTLVTag, texts values: [String]) {
        for value in values { self.serializer.writeTextString(tag, value) }
    }

    /// Writes a structure when present.
    public mutating func write(_ tag: TTLVTag, _ value: (some KMIPEncodable)?) {
        if let value { self.write(tag, value) }
    }

    /// Writes every structure in order under `tag`.
    public mutating func write(_ tag: TTLVTag, all values: [some KMIPEncodable]) {
        for value in values { self.write(tag, value) }
    }

    /// Writes an owned item when present.
    public mutating func write(_ item: TTLVItem?) {
        if let item { item.encode(into: &self.serializer) }
    }
}
