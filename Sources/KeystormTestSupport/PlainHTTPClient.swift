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

public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A minimal HTTP/1.1 client over a POSIX socket, for tests that talk to local HTTP peers such as
/// ``KeyProtectEmulatorProcess``: one connection per request (`connection: close`), plain HTTP
/// only, IPv4 literal or `localhost` hosts.
///
/// The socket calls block, so each request runs on a thread of a dedicated dispatch queue, never
/// on the cooperative pool; every socket operation has a timeout.
public enum PlainHTTPClient {
    /// A response: status, headers (names lower-cased) and body.
    public struct Response: Sendable {
        public var status: Int
        /// Header names lower-cased; a repeated header keeps its last value.
        public var headers: [String: String]
        public var body: Data

        /// The body as UTF-8 text (for messages).
        public var text: String { String(decoding: self.body, as: UTF8.self) }

        /// The body parsed as a JSON object, or `nil`.
        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: self.body)) as? [String: Any]
        }
    }

    /// A request that could not be made or whose response could not be read.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    private static let queue = DispatchQueue(label: "PlainHTTPClient", attributes: .concurrent)

    /// Sends `method url` with `headers` and `body`; `content-length`, `host` and
    /// `connection: close` are added. `url` is `http://HOST:PORT/path?query`.
    public static func request(
        _ method: String,
        _ url: String,
        headers: [String: String] = [:],
        body: Data? = nil,
        timeout: Duration = .seconds(30)
    ) async throws -> Response {
        guard let components = URLComponents(string: url), components.scheme == "http",
            let host = components.host, let port = components.port
        else { throw Failure("unsupported URL \(url) (plain http://HOST:PORT only)") }
        var target = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { target += "?" + query }
        var head = "\(method) \(target) HTTP/1.1\r\nhost: \(host):\(port)\r\nconnection: close\r\n"
        for (name, value) in headers where !["host", "connection", "content-length"].contains(name.lowercased()) {
            head += "\(name): \(value)\r\n"
        }
        if body != nil || ["POST", "PUT", "PATCH"].contains(method) {
            head += "content-length: \(body?.count ?? 0)\r\n"
        }
        head += "\r\n"
        var bytes = Data(head.utf8)
        if let body { bytes.append(body) }
        let address = host == "localhost" ? "127.0.0.1" : host
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        let request = bytes
        return try await withCheckedThrowingContinuation { continuation in
            Self.queue.async {
                continuation.resume(
                    with: Result { try Self.exchange(request, address: address, port: port, timeout: seconds) }
                )
            }
        }
    }

    /// `request` with a JSON object as the body (`content-type: application/json`).
    public static func request(
        _ method: String,
        _ url: String,
        headers: [String: String] = [:],
        json: Any,
        timeout: Duration = .seconds(30)
    ) async throws -> Response {
        let body = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        var headers = headers
        if !headers.keys.contains(where: { $0.lowercased() == "content-type" }) {
            headers["content-type"] = "application/json"
        }
        return try await Self.request(method, url, headers: headers, body: body, timeout: timeout)
    }

    // MARK: The blocking exchange (on `queue`)

    private static func exchange(_ request: Data, address: String, port: Int, timeout: Double) throws -> Response {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var interval = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, address, &socketAddress.sin_addr) == 1 else {
            throw Failure("not an IPv4 address: \(address)")
        }
        let connected = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            throw Failure("connect to \(address):\(port): \(String(cString: strerror(errno)))")
        }
        try request.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let written = send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { throw Failure("send: \(String(cString: strerror(errno)))") }
                offset += written
            }
        }
        var received = Data()
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                throw Failure("recv from \(address):\(port): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            received.append(contentsOf: chunk[0..<count])
            if let response = try Self.parse(received, complete: false) { return response }
        }
        guard let response = try Self.parse(received, complete: true) else {
            throw Failure("connection closed before a complete response (\(received.count) bytes)")
        }
        return response
    }

    /// Parses a response from `data`: `nil` when more bytes are needed. With `complete` (the peer
    /// closed), a body without length runs to the end.
    static func parse(_ data: Data, complete: Bool) throws -> Response? {
        let separator = Data("\r\n\r\n".utf8)
        guard let headEnd = data.range(of: separator) else { return nil }
        let head = String(decoding: data[data.startIndex..<headEnd.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw Failure("not an HTTP/1.x status line: \(head.prefix(80))")
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                .trimmingCharacters(in: .whitespaces)
        }
        var body = Data(data[headEnd.upperBound...])
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            guard let decoded = try Self.dechunk(body) else {
                if complete { throw Failure("truncated chunked body") }
                return nil
            }
            body = decoded
        } else if let lengthText = headers["content-length"] {
            guard let length = Int(lengthText) else { throw Failure("bad content-length \(lengthText)") }
            guard body.count >= length else {
                if complete { throw Failure("body shorter than its content-length \(length)") }
                return nil
            }
            body = body.prefix(length)
        } else if !complete && status != 204 && status != 304 && !(100..<200).contains(status) {
            return nil
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// The decoded chunked body, or `nil` when the final chunk has not arrived.
    private static func dechunk(_ data: Data) throws -> Data? {
        var output = Data()
        var index = data.startIndex
        let lineEnd = Data("\r\n".utf8)
        while true {
            guard let end = data.range(of: lineEnd, in: index..<data.endIndex) else { return nil }
            let sizeText =
                String(decoding: data[index..<end.lowerBound], as: UTF8.self)
                .split(separator: ";").first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                throw Failure("bad chunk size \(sizeText)")
            }
            let start = end.upperBound
            if size == 0 { return output }
            guard data.endIndex - start >= size + 2 else { return nil }
            output.append(data[start..<(start + size)])
            index = start + size + 2
        }
    }
}
