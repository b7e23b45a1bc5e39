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

extension TTLV {
    /// Writes TTLV items into a growing byte buffer.
    ///
    /// Lengths are always four bytes, so a structure is written by reserving its header, writing
    /// its children and patching the length; every value is padded with zeros to eight bytes.
    public struct Serializer: Sendable {
        /// The bytes written so far.
        public var bytes: [UInt8] { self.storage }

        @usableFromInline
        var storage: [UInt8]

        /// Creates a serializer whose buffer has room for `capacity` bytes.
        public init(capacity: Int = 256) {
            self.storage = []
            self.storage.reserveCapacity(capacity)
        }

        @usableFromInline
        mutating func header(_ tag: TTLVTag, _ type: TTLVType, _ length: Int) {
            let t = tag.rawValue
            let l = UInt32(truncatingIfNeeded: length)
            self.storage.append(UInt8(truncatingIfNeeded: t >> 16))
            self.storage.append(UInt8(truncatingIfNeeded: t >> 8))
            self.storage.append(UInt8(truncatingIfNeeded: t))
            self.storage.append(type.rawValue)
            self.storage.append(UInt8(truncatingIfNeeded: l >> 24))
            self.storage.append(UInt8(truncatingIfNeeded: l >> 16))
            self.storage.append(UInt8(truncatingIfNeeded: l >> 8))
            self.storage.append(UInt8(truncatingIfNeeded: l))
        }

        @usableFromInline
        mutating func big(_ value: UInt64, count: Int) {
            var shift = (count - 1) * 8
            while shift >= 0 {
                self.storage.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
                shift -= 8
            }
        }

        @usableFromInline
        mutating func pad(_ length: Int) {
            let padding = TTLV.paddedLength(length) - length
            if padding > 0 { self.storage.append(contentsOf: repeatElement(0, count: padding)) }
        }

        /// Writes a structure whose children `body` writes.
        @inlinable
        public mutating func writeStructure<E: Error>(
            _ tag: TTLVTag,
            _ body: (inout Serializer) throws(E) -> Void
        ) throws(E) {
            let start = self.beginStructure(tag)
            try body(&self)
            self.endStructure(start)
        }

        /// Writes a structure header with a placeholder length and returns its position for
        /// ``endStructure(_:)``.
        @inlinable
        public mutating func beginStructure(_ tag: TTLVTag) -> Int {
            let start = self.storage.count
            self.header(tag, .structure, 0)
            return start
        }

        /// Patches the length of the structure begun at `start` to cover everything written since.
        @inlinable
        public mutating func endStructure(_ start: Int) {
            let length = UInt32(truncatingIfNeeded: self.storage.count - start - TTLV.headerSize)
            self.storage[start + 4] = UInt8(truncatingIfNeeded: length >> 24)
            self.storage[start + 5] = UInt8(truncatingIfNeeded: length >> 16)
            self.storage[start + 6] = UInt8(truncatingIfNeeded: length >> 8)
            self.storage[start + 7] = UInt8(truncatingIfNeeded: length)
        }

        /// Writes an Integer.
        @inlinable
        public mutating func writeInteger(_ tag: TTLVTag, _ value: Int32) {
            self.header(tag, .integer, 4)
            self.big(UInt64(UInt32(bitPattern: value)), count: 4)
            self.pad(4)
        }

        /// Writes a Long Integer.
        @inlinable
        public mutating func writeLongInteger(_ tag: TTLVTag, _ value: Int64) {
            self.header(tag, .longInteger, 8)
            self.big(UInt64(bitPattern: value), count: 8)
        }

        /// Writes an Enumeration.
        @inlinable
        public mutating func writeEnumeration(_ tag: TTLVTag, _ value: UInt32) {
            self.header(tag, .enumeration, 4)
            self.big(UInt64(value), count: 4)
            self.pad(4)
        }

        /// Writes an Interval, in seconds.
        @inlinable
        public mutating func writeInterval(_ tag: TTLVTag, _ value: UInt32) {
            self.header(tag, .interval, 4)
            self.big(UInt64(value), count: 4)
            self.pad(4)
        }

        /// Writes a Boolean.
        @inlinable
        public mutating func writeBoolean(_ tag: TTLVTag, _ value: Bool) {
            self.header(tag, .boolean, 8)
            self.big(value ? 1 : 0, count: 8)
        }

        /// Writes a Date-Time: seconds since the POSIX epoch.
        @inlinable
        public mutating func writeDateTime(_ tag: TTLVTag, _ value: Int64) {
            self.header(tag, .dateTime, 8)
            self.big(UInt64(bitPattern: value), count: 8)
        }

        /// Writes a Date-Time Extended: microseconds since the POSIX epoch.
        @inlinable
        public mutating func writeDateTimeExtended(_ tag: TTLVTag, _ value: Int64) {
            self.header(tag, .dateTimeExtended, 8)
            self.big(UInt64(bitPattern: value), count: 8)
        }

        /// Writes a Text String (UTF-8, no terminator).
        @inlinable
        public mutating func writeTextString(_ tag: TTLVTag, _ value: String) {
            var value = value
            value.withUTF8 { utf8 in
                self.header(tag, .textString, utf8.count)
                self.storage.append(contentsOf: utf8)
                self.pad(utf8.count)
            }
        }

        /// Writes a Byte String.
        @inlinable
        public mutating func writeByteString(_ tag: TTLVTag, _ value: some Collection<UInt8>) {
            let count = value.count
            self.header(tag, .byteString, count)
            self.storage.append(contentsOf: value)
            self.pad(count)
        }

        /// Writes a Big Integer from its two's-complement big-endian bytes, sign-extending on the
        /// left to a multiple of eight bytes as KMIP 1.4 §9.1.1.4 requires.
        @inlinable
        public mutating func writeBigInteger(_ tag: TTLVTag, _ value: some Collection<UInt8>) {
            let count = max(8, TTLV.paddedLength(value.count))
            self.header(tag, .bigInteger, count)
            let negative = (value.first ?? 0) & 0x80 != 0
            self.storage.append(contentsOf: repeatElement(negative ? 0xFF : 0x00, count: count - value.count))
            self.storage.append(contentsOf: value)
        }

        /// Appends bytes that already hold complete, padded TTLV items.
        @inlinable
        public mutating func writeEncoded(_ items: some Collection<UInt8>) {
            self.storage.append(contentsOf: items)
        }
    }
}
