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

internal import CKeystorm
internal import Glibc

/// The outcome of a non-blocking system call: a value, or "try again later".
enum SystemCallResult<Value> {
    case value(Value)
    case wouldBlock
}

/// The one funnel every failing C call goes through.
///
/// * `EINTR` is retried.
/// * `EAGAIN`/`EWOULDBLOCK` become ``SystemCallResult/wouldBlock``.
/// * `EBADF`, `EFAULT` and `ENOTSOCK` are programmer errors and crash.
/// * Anything else throws an ``IOReactorError`` with code ``IOReactorError/Code/systemCall``.
///
/// - Parameters:
///   - name: The call, for the error message.
///   - body: Runs the call and returns its result; a negative result means failure with `errno` set.
/// - Returns: The call's result or `.wouldBlock`.
@inline(__always)
func systemCall<T: FixedWidthInteger>(
    _ name: StaticString,
    file: String = #fileID,
    line: UInt = #line,
    _ body: () -> T
) throws(IOReactorError) -> SystemCallResult<T> {
    while true {
        let result = body()
        if result >= 0 { return .value(result) }
        let error = Glibc.errno
        switch error {
        case EINTR: continue
        case EAGAIN, EWOULDBLOCK: return .wouldBlock
        default: try checkErrno(error, name, file: file, line: line)
        }
    }
}

/// Classifies a negative-errno result, as liburing and io_uring completions report them.
///
/// - Parameters:
///   - result: The call's return value (`>= 0` success, `< 0` is `-errno`).
///   - name: The call, for the error message.
/// - Returns: `result` when it is not negative, or `.wouldBlock` for `-EAGAIN`/`-EBUSY`.
/// - Throws: ``IOReactorError`` for every other negative result.
@inline(__always)
func negativeErrnoCall(
    _ result: Int32,
    _ name: StaticString,
    file: String = #fileID,
    line: UInt = #line
) throws(IOReactorError) -> SystemCallResult<Int32> {
    if result >= 0 { return .value(result) }
    switch -result {
    case EAGAIN, EBUSY, EINTR: return .wouldBlock
    default:
        try checkErrno(-result, name, file: file, line: line)
        return .wouldBlock
    }
}

/// Throws the error for `error`, crashing on programmer errors.
func checkErrno(_ error: Int32, _ name: StaticString, file: String, line: UInt) throws(IOReactorError) {
    switch error {
    case EBADF, EFAULT, ENOTSOCK:
        preconditionFailure("\(name) failed with errno \(error): a programmer error (\(file):\(line))")
    default:
        throw IOReactorError(
            .systemCall,
            errno: error,
            reason: "\(name): \(errnoDescription(error))",
            file: file,
            line: line
        )
    }
}

/// The text of `strerror(error)`.
func errnoDescription(_ error: Int32) -> String {
    guard let text = strerror(error) else { return "errno \(error)" }
    return String(cString: text)
}

/// A monotonic timestamp in nanoseconds.
func monotonicNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

extension Duration {
    /// The duration in whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return product &+ attoseconds / 1_000_000_000
    }
}
