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

public import KMIPModel
import KeyStore
import Metrics
import Synchronization

/// Keeps the last part of the data disk for reads and their audit lines.
///
/// A client that creates keys or adds attributes without end would otherwise fill the disk, and
/// on a full disk the audit log cannot be written, so every operation of every tenant fails (the
/// server never serves unaudited). Below ``reserveBytes`` of free space, operations that grow the
/// store (Create, Register, Re-key, attribute changes, ...) are refused with a clear error, while
/// Get, Locate, Get Attributes, Activate, Revoke and Destroy go on and are audited in the space
/// kept free. Writes are accepted again as soon as space is freed: no restart.
///
/// | metric | kind | meaning |
/// |---|---|---|
/// | `keystorm_data_disk_available_bytes` | gauge | free bytes on the data disk at the last check |
/// | `keystorm_data_disk_low` | gauge | 1 while free space is below the reserve |
/// | `keystorm_writes_refused_total` | counter | `reason` = `disk_low` |
public final class StorageReserve: Sendable {
    /// The directory whose file system is watched (the data directory).
    public let directory: String
    /// Free bytes kept for reads and the audit log.
    public let reserveBytes: Int64

    private let low = Mutex(false)
    private let log: @Sendable (String) -> Void
    private let available: Gauge
    private let lowGauge: Gauge
    private let refused: Counter
    private let freeSpace: @Sendable (String) -> Int64?

    /// Creates a reserve for the file system of `directory`.
    ///
    /// - Parameters:
    ///   - directory: The data directory.
    ///   - reserveBytes: Free bytes below which growing operations are refused; 0 turns the reserve off.
    ///   - log: Where the crossings of the mark are reported.
    ///   - freeSpace: Reads the free bytes (tests give a fake disk); `nil` asks the file system (`statvfs`).
    public init(
        directory: String,
        reserveBytes: Int64,
        log: @escaping @Sendable (String) -> Void,
        freeSpace: (@Sendable (String) -> Int64?)? = nil
    ) {
        self.directory = directory
        self.reserveBytes = max(0, reserveBytes)
        self.log = log
        self.freeSpace = freeSpace ?? { DiskSpace.available(at: $0) }
        self.available = Gauge(label: "keystorm_data_disk_available_bytes")
        self.lowGauge = Gauge(label: "keystorm_data_disk_low")
        self.refused = Counter(label: "keystorm_writes_refused_total", dimensions: [("reason", "disk_low")])
    }

    /// Whether `operation` makes the store (or its audit lines) grow enough to be refused on a
    /// low disk. Reads and the operations that retire keys are never refused: revoking a key
    /// must work when the disk is short.
    public static func grows(_ operation: Operation) -> Bool {
        switch operation {
        case .create, .createKeyPair, .register, .reKey, .reKeyKeyPair, .deriveKey, .certify, .reCertify,
            .addAttribute, .modifyAttribute, .deleteAttribute, .setAttribute, .adjustAttribute:
            true
        default:
            false
        }
    }

    /// Checks the disk now. Returns the refusal message while free space is below the reserve,
    /// `nil` otherwise; logs each crossing of the mark once.
    public func check() -> String? {
        guard self.reserveBytes > 0, let free = self.freeSpace(self.directory) else { return nil }
        self.available.record(free)
        let isLow = free < self.reserveBytes
        let changed = self.low.withLock { state -> Bool in
            defer { state = isLow }
            return state != isLow
        }
        self.lowGauge.record(isLow ? 1 : 0)
        if changed {
            self.log(
                isLow
                    ? "the data disk (\(self.directory)) has \(Self.mebibytes(free)) free, below the reserve of "
                        + "\(Self.mebibytes(self.reserveBytes)): new keys and attribute changes are refused; existing "
                        + "keys are still served"
                    : "the data disk (\(self.directory)) has \(Self.mebibytes(free)) free again: writes are accepted"
            )
        }
        guard isLow else { return nil }
        return
            "the server's data disk is nearly full (\(Self.mebibytes(free)) free, \(Self.mebibytes(self.reserveBytes)) "
            + "reserved): new keys and attribute changes are refused until space is freed; existing keys are still served"
    }

    /// Checks the disk and counts a refusal; `nil` when the operation may go on.
    func refusal(for operation: Operation) -> String? {
        guard Self.grows(operation), let message = self.check() else { return nil }
        self.refused.increment()
        return message
    }

    /// Whether free space was below the reserve at the last check.
    public var isLow: Bool { self.low.withLock { $0 } }

    static func mebibytes(_ bytes: Int64) -> String {
        bytes >= 10 << 20 ? "\(bytes >> 20) MiB" : "\(bytes >> 10) KiB"
    }
}
