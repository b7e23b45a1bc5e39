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

/// Who may call which admin route: a pure decision over the path, the peer's address and the
/// `Authorization` header, so that it is tested without sockets.
///
/// - Every `/v1` route needs the bearer token.
/// - `/metrics`, `/healthz` and `/readyz` are open unless ``metricsTokenRequired`` is set.
/// - A peer that is not on the loopback network is refused (403) unless ``remotePeers`` admits
///   it, whatever token it sends: the listener is meant for the local host by default.
public struct AdminAccessPolicy: Sendable {
    /// What the policy decided for one request.
    public enum Decision: Equatable, Sendable {
        case allow
        /// 401: the route needs the bearer token and the request lacks it or has a wrong one.
        case unauthorized
        /// 403: the peer is not on the loopback network and remote access is off.
        case forbidden
    }

    /// The admin token; compared in constant time.
    public var token: AdminToken
    /// Whether `/metrics`, `/healthz` and `/readyz` need the token too (key `admin.metrics-token-required`).
    public var metricsTokenRequired: Bool
    /// The peers outside the loopback network that may call at all (key `admin.remote-peers`);
    /// none by default.
    public var remotePeers: AdminPeerList

    public init(token: AdminToken, metricsTokenRequired: Bool = false, remotePeers: AdminPeerList = .none) {
        self.token = token
        self.metricsTokenRequired = metricsTokenRequired
        self.remotePeers = remotePeers
    }

    /// Decides one request.
    ///
    /// - Parameters:
    ///   - path: The request path without the query (`/v1/tenants`).
    ///   - peerIP: The peer's IP address as text, or `nil` when unknown (then it counts as remote).
    ///   - authorization: The `Authorization` header's value, if any.
    /// - Returns: ``Decision/allow`` or why not.
    public func decide(path: String, peerIP: String?, authorization: String?) -> Decision {
        if !Self.isLoopback(peerIP) && !self.remotePeers.contains(peerIP) { return .forbidden }
        let open = Self.openPaths.contains(path) && !self.metricsTokenRequired
        if open { return .allow }
        guard let presented = Self.bearer(authorization), self.token.matches(presented) else { return .unauthorized }
        return .allow
    }

    /// The routes that need no token by default.
    public static let openPaths: Set<String> = ["/metrics", "/healthz", "/readyz"]

    /// The token of an `Authorization: Bearer <token>` header.
    static func bearer(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingSpaces()
    }

    /// Whether `ip` is on the loopback network: 127.0.0.0/8, `::1`, or an IPv4-mapped `::ffff:127.x.y.z`.
    public static func isLoopback(_ ip: String?) -> Bool {
        guard var ip = ip?.lowercased() else { return false }
        if ip.hasPrefix("[") && ip.hasSuffix("]") { ip = String(ip.dropFirst().dropLast()) }
        if let percent = ip.firstIndex(of: "%") { ip = String(ip[..<percent]) }
        if ip == "::1" || ip == "0:0:0:0:0:0:0:1" { return true }
        if ip.hasPrefix("::ffff:") { ip = String(ip.dropFirst("::ffff:".count)) }
        let octets = ip.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else { return false }
        return octets[0] == "127"
    }

    /// Whether binding `host` keeps the listener on the loopback network (`localhost` counts).
    public static func isLoopbackHost(_ host: String) -> Bool {
        host.lowercased() == "localhost" || Self.isLoopback(host)
    }
}

/// Which peers outside the loopback network may reach the admin listener: `*` (any), or a comma
/// separated list of IPv4 addresses and CIDR ranges (`10.0.0.0/8`) and IPv6 addresses.
public struct AdminPeerList: Sendable, Equatable {
    private enum Entry: Sendable, Equatable {
        case any
        case ipv4(network: UInt32, mask: UInt32)
        case ipv6(String)
    }

    private var entries: [Entry]

    /// No remote peer.
    public static let none = AdminPeerList(entries: [])

    private init(entries: [Entry]) {
        self.entries = entries
    }

    /// Parses the `admin.remote-peers` setting.
    ///
    /// - Throws: ``AdminAPIError`` naming the entry that is neither `*`, an address nor a CIDR range.
    public init(parsing text: String) throws {
        var entries: [Entry] = []
        for raw in text.split(separator: ",") {
            let item = raw.trimmingSpacesAndTabs()
            if item.isEmpty { continue }
            if item == "*" {
                entries.append(.any)
            } else if item.contains(":") {
                entries.append(.ipv6(item.lowercased()))
            } else {
                let parts = item.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count <= 2, let address = AdminAccessPolicy.ipv4(String(parts[0])),
                    let bits = parts.count == 2 ? Int(parts[1]) : 32, (0...32).contains(bits)
                else {
                    throw AdminAPIError(
                        .badRequest,
                        "admin.remote-peers: '\(item)' is not *, an IP address or a CIDR range"
                    )
                }
                let mask: UInt32 = bits == 0 ? 0 : UInt32.max << UInt32(32 - bits)
                entries.append(.ipv4(network: address & mask, mask: mask))
            }
        }
        self.entries = entries
    }

    /// Whether `ip` is admitted.
    public func contains(_ ip: String?) -> Bool {
        guard let ip else { return false }
        var text = ip.lowercased()
        if text.hasPrefix("::ffff:"), AdminAccessPolicy.ipv4(String(text.dropFirst(7))) != nil {
            text = String(text.dropFirst(7))
        }
        let v4 = AdminAccessPolicy.ipv4(text)
        for entry in self.entries {
            switch entry {
            case .any: return true
            case .ipv4(let network, let mask): if let v4, v4 & mask == network { return true }
            case .ipv6(let address): if text == address { return true }
            }
        }
        return false
    }
}

extension AdminAccessPolicy {
    /// A dotted-quad IPv4 address as a number.
    static func ipv4(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard octet.count <= 3, let byte = UInt8(octet) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }
}

extension StringProtocol {
    fileprivate func trimmingSpacesAndTabs() -> String {
        String(self).trimmingSpaces()
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var view = Substring(self)
        while view.first == " " || view.first == "\t" { view = view.dropFirst() }
        while view.last == " " || view.last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
