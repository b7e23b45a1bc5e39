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

import ArgumentParser

/// How the keys of a boot storm are spread over the hosts.
enum KeyPopularity: String, CaseIterable, Sendable, Codable, ExpressibleByArgument {
    /// vSAN encryption: every host of a cluster asks for the same few keys (the cluster's KEK and
    /// its disk keys), so few keys are shared by many hosts. Hosts form clusters of
    /// ``KeyAssignment/vsanClusterSize`` (vSAN's maximum cluster size).
    case vsan
    /// VM encryption: each host asks for the keys of its own VMs, so keys are many and distinct.
    case vm
}

/// Which key each host asks for: host `h`'s `j`-th Get is of key ``key(host:slot:)``, an index
/// into the `keys` distinct keys of the setup phase. Pure and deterministic.
struct KeyAssignment: Hashable, Sendable {
    /// Hosts per vSAN cluster (vSAN allows at most 64).
    static let vsanClusterSize = 64

    var hosts: Int
    var keysPerHost: Int
    var keys: Int
    var popularity: KeyPopularity

    /// The number of distinct keys a storm needs when `--keys` is not given: every Get of a
    /// distinct key (`vm`), or `keysPerHost` keys per cluster (`vsan`).
    static func defaultKeys(hosts: Int, keysPerHost: Int, popularity: KeyPopularity) -> Int {
        switch popularity {
        case .vm: hosts * keysPerHost
        case .vsan: ((hosts + Self.vsanClusterSize - 1) / Self.vsanClusterSize) * keysPerHost
        }
    }

    init(hosts: Int, keysPerHost: Int, keys: Int? = nil, popularity: KeyPopularity) {
        precondition(hosts > 0 && keysPerHost > 0, "a storm needs hosts and keys")
        self.hosts = hosts
        self.keysPerHost = keysPerHost
        self.popularity = popularity
        self.keys = max(1, keys ?? Self.defaultKeys(hosts: hosts, keysPerHost: keysPerHost, popularity: popularity))
    }

    /// The key index (in `0..<keys`) of host `host`'s Get number `slot`.
    ///
    /// `vm`: keys go round-robin over hosts and slots, `(host * keysPerHost + slot) % keys`, so a
    /// host's keys are distinct while `keys >= keysPerHost` and every key is used about equally.
    /// `vsan`: all hosts of cluster `c = host / 64` get the same keys,
    /// `(c * keysPerHost + slot) % keys`.
    func key(host: Int, slot: Int) -> Int {
        switch self.popularity {
        case .vm: (host * self.keysPerHost + slot) % self.keys
        case .vsan: ((host / Self.vsanClusterSize) * self.keysPerHost + slot) % self.keys
        }
    }

    /// How many Gets each key receives in one pass of the storm (index = key).
    func getsPerKey() -> [Int] {
        var counts = [Int](repeating: 0, count: self.keys)
        for host in 0..<self.hosts {
            for slot in 0..<self.keysPerHost { counts[self.key(host: host, slot: slot)] += 1 }
        }
        return counts
    }
}
