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

internal import CKeystormCrypto

/// The one funnel every libcrypto call that can fail goes through.
///
/// libcrypto reports failure through a return value and a thread-local error queue. ``call(_:code:_:)``
/// clears the queue, runs the call, and on failure drains the queue into the error's reason (OpenSSL's
/// error strings name the library and function, never data) so no stale entry leaks into a later call.
/// The body is synchronous, so the queue read belongs to the same thread as the call.
enum OpenSSL {
    /// Runs a libcrypto call that returns 1 on success and throws `code` otherwise.
    ///
    /// - Parameters:
    ///   - function: The C function's name, for the error reason.
    ///   - code: The error to throw on failure; ``RootKeyError/cryptoFailure`` unless the failure
    ///     means something to the caller (a tag that does not verify).
    ///   - body: The call; returns libcrypto's status.
    /// - Throws: ``RootKeyError`` with `code` when the status is not 1.
    static func call(
        _ function: StaticString,
        code: RootKeyError.Code = .cryptoFailure,
        file: String = #fileID,
        line: UInt = #line,
        _ body: () -> Int32
    ) throws {
        ERR_clear_error()
        let status = body()
        guard status == 1 else {
            throw RootKeyError(code, reason: "\(function) failed: \(Self.drainErrorQueue())", file: file, line: line)
        }
    }

    /// Reads and clears the calling thread's error queue; `"no OpenSSL error"` when it is empty.
    static func drainErrorQueue() -> String {
        var messages: [String] = []
        while true {
            let error = ERR_get_error()
            if error == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(error, &buffer, buffer.count)
            let text = buffer.withUnsafeBufferPointer { pointer in
                String(decoding: UnsafeRawBufferPointer(pointer).prefix { $0 != 0 }, as: UTF8.self)
            }
            messages.append(text)
        }
        return messages.isEmpty ? "no OpenSSL error" : messages.joined(separator: "; ")
    }

    /// Checks that a length fits libcrypto's `int` lengths.
    static func int32Length(_ count: Int, _ what: StaticString) throws -> Int32 {
        guard let length = Int32(exactly: count) else {
            throw RootKeyError(.invalidArgument, reason: "\(what) of \(count) bytes is too long for OpenSSL")
        }
        return length
    }
}

/// An `EVP_CIPHER_CTX`, owned: freed (and its key schedule cleansed by OpenSSL) in `deinit`.
///
/// One context serves one seal, open, wrap or unwrap; contexts are cheap next to the cipher work and
/// never shared between threads.
final class CipherContext {
    let pointer: OpaquePointer

    init() throws {
        guard let pointer = EVP_CIPHER_CTX_new() else {
            throw RootKeyError(.cryptoFailure, reason: "EVP_CIPHER_CTX_new failed: \(OpenSSL.drainErrorQueue())")
        }
        self.pointer = pointer
    }

    deinit {
        EVP_CIPHER_CTX_free(self.pointer)
    }
}

@available(*, unavailable)
extension CipherContext: Sendable {}

extension UnsafeRawBufferPointer {
    /// The bytes as `const unsigned char *`, as libcrypto takes them; never nil, even when empty,
    /// because some EVP calls treat a nil input as "query the output size".
    func withUnsignedCharPointer<R>(_ body: (UnsafePointer<UInt8>) throws -> R) rethrows -> R {
        if let base = self.baseAddress, self.count > 0 {
            return try body(base.assumingMemoryBound(to: UInt8.self))
        }
        var placeholder: UInt8 = 0
        return try withUnsafePointer(to: &placeholder) { try body($0) }
    }
}
