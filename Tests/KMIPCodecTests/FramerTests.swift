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
import Testing

@Suite("Framer")
struct FramerTests {
    /// vCenter's first request on every connection: Discover Versions, no batch item ID.
    static let discoverVersions = hex(
        "42007801000000604200770100000038420069010000002042006a0200000004000000010000000042006b020000000400000001000000004200"
            + "0d0200000004000000010000000042000f010000001842005c05000000040000001e000000004200790100000000"
    )

    @Test func dripFeedOneByteAtATime() throws {
        var framer = TTLV.Framer()
        let stream = Self.discoverVersions + Self.discoverVersions
        var messages: [[UInt8]] = []
        for byte in stream {
            framer.append([byte])
            while let message = try framer.nextMessage() { messages.append(message) }
        }
        #expect(messages == [Self.discoverVersions, Self.discoverVersions])
        #expect(framer.bufferedByteCount == 0)
    }

    @Test func everySplitPointYieldsTheSameMessages() throws {
        let stream = Self.discoverVersions + Self.discoverVersions
        for split in 0...stream.count {
            var framer = TTLV.Framer()
            var messages: [[UInt8]] = []
            framer.append(stream[..<split])
            while let message = try framer.nextMessage() { messages.append(message) }
            framer.append(stream[split...])
            while let message = try framer.nextMessage() { messages.append(message) }
            #expect(messages.count == 2, "split at \(split)")
            #expect(messages.allSatisfy { $0 == Self.discoverVersions })
        }
    }

    @Test func headerAloneIsNotAMessage() throws {
        var framer = TTLV.Framer()
        framer.append(Self.discoverVersions.prefix(8))
        #expect(try framer.nextMessage() == nil)
        #expect(framer.bufferedByteCount == 8)
    }

    /// A header for a Request Message (structure) of `length` bytes of value.
    static func header(length: Int) -> [UInt8] {
        [0x42, 0x00, 0x78, 0x01] + withUnsafeBytes(of: UInt32(length).bigEndian, Array.init)
    }

    @Test func aPartialMessageHoldsWhatArrivedNotWhatItsHeaderAnnounces() throws {
        var framer = TTLV.Framer()
        framer.append(Self.header(length: (1 << 20) - 8) + [UInt8](repeating: 0, count: 8))
        #expect(try framer.nextMessage() == nil)
        #expect(framer.bufferedByteCount == 16)
        #expect(framer.bufferCapacity < 4096)
    }

    @Test func theBufferOfALargeMessageIsFreedOnceItIsTaken() throws {
        var framer = TTLV.Framer()
        let large = Self.header(length: 32 * 1024) + [UInt8](repeating: 0, count: 32 * 1024)
        framer.append(large)
        #expect(try framer.nextMessage() == large)
        #expect(framer.bufferCapacity <= TTLV.Framer.retainedCapacity)
        // Small messages keep their buffer between messages.
        framer.append(Self.discoverVersions)
        #expect(try framer.nextMessage() == Self.discoverVersions)
        #expect(framer.bufferCapacity > 0)
    }

    @Test func limitIsCheckedFromTheHeaderAlone() {
        var framer = TTLV.Framer(limits: TTLVLimits(maxMessageSize: 64))
        framer.append(Self.discoverVersions.prefix(8))
        expectTTLVError(.messageTooLarge) { try framer.nextMessage() }
    }
}
