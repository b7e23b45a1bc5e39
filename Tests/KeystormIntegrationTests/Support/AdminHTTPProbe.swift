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

import Foundation

/// A minimal HTTP/1.1 client for the admin listener: one request per connection
/// (`Connection: close`), over a plain socket on 127.0.0.1, off the cooperative pool, with a
/// receive timeout so that nothing waits forever.
enum AdminHTTPProbe {
    struct Answer: Sendable {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    /// Sends one request and reads the whole answer.
    static func request(
        port: Int,
        _ method: String,
        _ path: String,
        token: String? = nil,
        body: String? = nil
    ) async throws -> Answer {
        try await offload {
            var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
            if let token { head += "Authorization: Bearer \(token)\r\n" }
            if let body {
                head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
            } else if method == "POST" || method == "DELETE" {
                head += "Content-Length: 0\r\n"
            }
            let raw = try Self.exchange(port: port, Array((head + "\r\n" + (body ?? "")).utf8))
            return try Self.parse(raw)
        }
    }

    /// Sends `bytes` (a request cut short) and reads until the server closes the connection or
    /// `wait` passes. Returns whether it closed, and what it answered before closing.
    static func sendAndAwaitClose(port: Int, _ bytes: [UInt8], wait: Int) async throws -> (closed: Bool, answer: String)
    {
        try await offload {
            do {
                let answer = try Self.exchange(port: port, bytes, timeoutSeconds: wait)
                return (true, String(decoding: answer, as: UTF8.self))
            } catch let failure as LiveTestFailure where failure.description.contains("timeout or reset") {
                return (failure.description.contains("errno \(ECONNRESET)"), "")
            }
        }
    }

    private static func exchange(port: Int, _ bytes: [UInt8], timeoutSeconds: Int = 30) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LiveTestFailure("socket: errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw LiveTestFailure("connect to 127.0.0.1:\(port): errno \(errno)") }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw LiveTestFailure("send: errno \(errno)") }
            sent += n
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { throw LiveTestFailure("recv: errno \(errno) (timeout or reset)") }
            answer += chunk[0..<n]
        }
        return answer
    }

    private static func parse(_ raw: [UInt8]) throws -> Answer {
        let text = String(decoding: raw, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw LiveTestFailure("no HTTP header in: \(text)") }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw LiveTestFailure("bad status line: \(lines[0])")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces
            )
        }
        var body = String(text[split.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = Self.dechunk(body) }
        return Answer(status: status, headers: headers, body: body)
    }

    /// Joins the chunks of a chunked body.
    private static func dechunk(_ text: String) -> String {
        var rest = Substring(text)
        var body = ""
        while let lineEnd = rest.range(of: "\r\n"), let size = Int(rest[..<lineEnd.lowerBound], radix: 16), size > 0 {
            let start = lineEnd.upperBound
            let end = rest.utf8.index(start, offsetBy: size)
            body += rest[start..<end]
            rest = rest[end...].dropFirst(2)
        }
        return body
    }
}
