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

/// The epoll fallback: readiness turned into completions, so ``ReactorLoop`` sees one interface.
///
/// Each descriptor has at most one reader (an accept, a receive or the wake-up read) and one
/// writer (a send). Interest is level-triggered and follows the waiting operations. Sends are tried
/// at once; a result that is known without waiting is delivered in the next ``poll(timeoutNanoseconds:)``,
/// never from inside the call that started the operation.
final class EpollBackend: IOBackend {
    private struct Registration {
        var reader: IOOperation?
        var writer: IOOperation?
        var events: UInt32 = 0
    }

    private let epollFD: Int32
    private var registrations: [Int32: Registration] = [:]
    private var ready: [(IOOperation, Int32, Bool)] = []
    private var events = [epoll_event](repeating: epoll_event(), count: 128)

    var kind: IOBackendKind { .epoll }

    init() throws(IOReactorError) {
        guard case .value(let fd) = try systemCall("epoll_create1", { epoll_create1(Int32(EPOLL_CLOEXEC)) }) else {
            throw IOReactorError(.systemCall, reason: "epoll_create1 would block")
        }
        self.epollFD = fd
    }

    private func updateInterest(_ fd: Int32) throws(IOReactorError) {
        guard var registration = self.registrations[fd] else { return }
        var wanted: UInt32 = 0
        if registration.reader != nil { wanted |= EPOLLIN.rawValue }
        if registration.writer != nil { wanted |= EPOLLOUT.rawValue }
        guard wanted != registration.events else { return }
        var event = epoll_event(events: wanted, data: epoll_data_t(fd: fd))
        let operation =
            registration.events == 0 && wanted != 0 ? EPOLL_CTL_ADD : (wanted == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD)
        _ = try systemCall("epoll_ctl") { epoll_ctl(self.epollFD, operation, fd, &event) }
        registration.events = wanted
        self.registrations[fd] = registration
    }

    private func wait(_ op: IOOperation, asReader: Bool) throws(IOReactorError) {
        op.inFlight = true
        op.generation &+= 1
        var registration = self.registrations[op.fd] ?? Registration()
        if asReader {
            precondition(registration.reader == nil, "two readers on fd \(op.fd)")
            registration.reader = op
        } else {
            precondition(registration.writer == nil, "two writers on fd \(op.fd)")
            registration.writer = op
        }
        self.registrations[op.fd] = registration
        try self.updateInterest(op.fd)
    }

    func accept(_ op: IOOperation) throws(IOReactorError) { try self.wait(op, asReader: true) }

    func receive(_ op: IOOperation) throws(IOReactorError) { try self.wait(op, asReader: true) }

    func send(_ op: IOOperation) throws(IOReactorError) {
        op.inFlight = true
        op.generation &+= 1
        let result = Self.perform(op)
        if result == -EAGAIN {
            op.inFlight = false
            try self.wait(op, asReader: false)
        } else {
            self.ready.append((op, result, false))
        }
    }

    func cancel(_ op: IOOperation) throws(IOReactorError) {
        guard op.inFlight, var registration = self.registrations[op.fd] else { return }
        if registration.reader === op {
            registration.reader = nil
        } else if registration.writer === op {
            registration.writer = nil
        } else {
            return  // its result is already in `ready`
        }
        self.registrations[op.fd] = registration
        try self.updateInterest(op.fd)
        self.ready.append((op, -ECANCELED, false))
    }

    func forget(fd: Int32) {
        guard let registration = self.registrations.removeValue(forKey: fd) else { return }
        if registration.events != 0 {
            _ = try? systemCall("epoll_ctl(DEL)") { epoll_ctl(self.epollFD, EPOLL_CTL_DEL, fd, nil) }
        }
    }

    /// Runs the operation's system call once, returning its result or `-errno`.
    private static func perform(_ op: IOOperation) -> Int32 {
        while true {
            let result: Int
            switch op.kind {
            case .accept:
                result = Int(CKeystorm_accept_nonblocking(op.fd))
            case .receive:
                result = Glibc.recv(op.fd, op.buffer, op.length, 0)
            case .send:
                result = Glibc.send(op.fd, op.buffer, op.length, Int32(MSG_NOSIGNAL))
            case .wakeUp:
                result = Glibc.read(op.fd, op.buffer, op.length)
            }
            if result >= 0 { return Int32(result) }
            let error = Glibc.errno
            if error == EINTR { continue }
            return error == EWOULDBLOCK ? -EAGAIN : -error
        }
    }

    func poll(timeoutNanoseconds: Int64?) throws(IOReactorError) -> Int {
        var delivered = self.deliverReady()
        var timeout: Int32 = -1
        if delivered > 0 || !self.ready.isEmpty {
            timeout = 0
        } else if let nanoseconds = timeoutNanoseconds {
            timeout = Int32(clamping: (nanoseconds + 999_999) / 1_000_000)
        }
        let count = try self.events.withUnsafeMutableBufferPointer { buffer throws(IOReactorError) -> Int32 in
            switch try systemCall(
                "epoll_wait",
                { epoll_wait(self.epollFD, buffer.baseAddress, Int32(buffer.count), timeout) }
            ) {
            case .value(let count): return count
            case .wouldBlock: return 0
            }
        }
        for index in 0..<Int(count) {
            let event = self.events[index]
            let fd = event.data.fd
            let flags = event.events
            let error = flags & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0
            if flags & EPOLLIN.rawValue != 0 || error, let reader = self.registrations[fd]?.reader {
                delivered += try self.serveReader(reader)
            }
            if flags & EPOLLOUT.rawValue != 0 || error, let writer = self.registrations[fd]?.writer {
                let result = Self.perform(writer)
                if result != -EAGAIN {
                    self.registrations[fd]?.writer = nil
                    try self.updateInterest(fd)
                    writer.complete(result, more: false)
                    delivered += 1
                }
            }
        }
        return delivered + self.deliverReady()
    }

    private func serveReader(_ reader: IOOperation) throws(IOReactorError) -> Int {
        let fd = reader.fd
        if reader.kind == .accept {
            var delivered = 0
            while self.registrations[fd]?.reader === reader {
                let result = Self.perform(reader)
                if result == -EAGAIN { break }
                reader.complete(result, more: true)
                delivered += 1
                if result < 0 { break }
            }
            return delivered
        }
        let result = Self.perform(reader)
        if result == -EAGAIN { return 0 }
        self.registrations[fd]?.reader = nil
        try self.updateInterest(fd)
        reader.complete(result, more: false)
        return reader.kind == .wakeUp ? 0 : 1
    }

    private func deliverReady() -> Int {
        guard !self.ready.isEmpty else { return 0 }
        let batch = self.ready
        self.ready.removeAll(keepingCapacity: true)
        for (op, result, more) in batch { op.complete(result, more: more) }
        return batch.count
    }

    func close() {
        Glibc.close(self.epollFD)
    }
}
