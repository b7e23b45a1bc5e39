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

/// The io_uring backend: one ring per loop, created on the loop thread.
///
/// The ring uses `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN` when the kernel accepts
/// them (``CKeystorm_ring_init`` falls back otherwise) and registers its own fd. Each in-flight
/// ``IOOperation`` is retained once and its pointer is the SQE's `user_data`; the retain is
/// released at its final CQE (no `IORING_CQE_F_MORE`). Cancellation SQEs carry `user_data` 0.
final class UringBackend: IOBackend {
    private var ring = io_uring()
    private var cqes = [UnsafeMutablePointer<io_uring_cqe>?](repeating: nil, count: 128)
    /// The setup flags the kernel accepted.
    let setupFlags: UInt32

    var kind: IOBackendKind { .uring }

    /// Sets up the ring. Must run on the loop thread.
    /// - Throws: ``IOReactorError/Code/ioUringUnavailable`` when the kernel refuses io_uring.
    init(entries: UInt32, log: @Sendable (String) -> Void, loopIndex: Int) throws(IOReactorError) {
        var flags: UInt32 = 0
        let result = CKeystorm_ring_init(&self.ring, entries, &flags)
        if result < 0 {
            throw IOReactorError(
                .ioUringUnavailable,
                errno: -result,
                reason: "io_uring_queue_init: \(errnoDescription(-result))"
            )
        }
        self.setupFlags = flags
        if flags != CKeystorm_ring_flags_deferred() {
            log("loop \(loopIndex): io_uring without SINGLE_ISSUER|DEFER_TASKRUN (flags \(flags))")
        }
        let registered = io_uring_register_ring_fd(&self.ring)
        if registered < 0 {
            log("loop \(loopIndex): io_uring_register_ring_fd failed: \(errnoDescription(-registered))")
        }
    }

    /// Returns a free SQE, submitting queued ones first when the submission queue is full.
    private func nextSQE() throws(IOReactorError) -> UnsafeMutablePointer<io_uring_sqe> {
        if let sqe = io_uring_get_sqe(&self.ring) { return sqe }
        _ = try negativeErrnoCall(io_uring_submit(&self.ring), "io_uring_submit")
        if let sqe = io_uring_get_sqe(&self.ring) { return sqe }
        throw IOReactorError(.systemCall, errno: EBUSY, reason: "io_uring submission queue is full")
    }

    @inline(__always)
    private func attach(_ op: IOOperation, to sqe: UnsafeMutablePointer<io_uring_sqe>) {
        op.inFlight = true
        op.generation &+= 1
        let pointer = Unmanaged.passRetained(op).toOpaque()
        io_uring_sqe_set_data64(sqe, UInt64(UInt(bitPattern: pointer)))
    }

    func accept(_ op: IOOperation) throws(IOReactorError) {
        let sqe = try self.nextSQE()
        io_uring_prep_multishot_accept(sqe, op.fd, nil, nil, Int32(SOCK_CLOEXEC.rawValue))
        self.attach(op, to: sqe)
    }

    func receive(_ op: IOOperation) throws(IOReactorError) {
        let sqe = try self.nextSQE()
        if op.kind == .wakeUp {
            io_uring_prep_read(sqe, op.fd, op.buffer, UInt32(op.length), 0)
        } else {
            io_uring_prep_recv(sqe, op.fd, op.buffer, op.length, 0)
        }
        self.attach(op, to: sqe)
    }

    func send(_ op: IOOperation) throws(IOReactorError) {
        let sqe = try self.nextSQE()
        io_uring_prep_send(sqe, op.fd, op.buffer, op.length, Int32(MSG_NOSIGNAL))
        self.attach(op, to: sqe)
    }

    func cancel(_ op: IOOperation) throws(IOReactorError) {
        guard op.inFlight else { return }
        let sqe = try self.nextSQE()
        let pointer = Unmanaged.passUnretained(op).toOpaque()
        io_uring_prep_cancel64(sqe, UInt64(UInt(bitPattern: pointer)), 0)
        io_uring_sqe_set_data64(sqe, 0)
    }

    func forget(fd: Int32) {}

    func poll(timeoutNanoseconds: Int64?) throws(IOReactorError) -> Int {
        var cqe: UnsafeMutablePointer<io_uring_cqe>? = nil
        let result: Int32
        switch timeoutNanoseconds {
        case .none:
            result = io_uring_submit_and_wait(&self.ring, 1)
        case .some(let nanoseconds) where nanoseconds <= 0:
            let submitted = io_uring_submit(&self.ring)
            result = submitted < 0 ? submitted : io_uring_get_events(&self.ring)
        case .some(let nanoseconds):
            var timeout = __kernel_timespec(
                tv_sec: nanoseconds / 1_000_000_000,
                tv_nsec: nanoseconds % 1_000_000_000
            )
            result = io_uring_submit_and_wait_timeout(&self.ring, &cqe, 1, &timeout, nil)
        }
        if result < 0 && result != -ETIME && result != -EINTR {
            // EAGAIN/EBUSY: the completion queue is full; reaping below makes room.
            _ = try negativeErrnoCall(result, "io_uring_submit_and_wait")
        }
        return self.reap()
    }

    /// Delivers every completion in the queue.
    private func reap() -> Int {
        var delivered = 0
        while true {
            let count = self.cqes.withUnsafeMutableBufferPointer { buffer in
                Int(io_uring_peek_batch_cqe(&self.ring, buffer.baseAddress, UInt32(buffer.count)))
            }
            if count == 0 { return delivered }
            for index in 0..<count {
                let cqe = self.cqes[index]!
                let data = io_uring_cqe_get_data64(cqe)
                guard data != 0, let raw = UnsafeMutableRawPointer(bitPattern: UInt(data)) else { continue }
                let result = cqe.pointee.res
                let more = cqe.pointee.flags & UInt32(IORING_CQE_F_MORE) != 0
                let unmanaged = Unmanaged<IOOperation>.fromOpaque(raw)
                let op = unmanaged.takeUnretainedValue()
                if op.kind != .wakeUp { delivered += 1 }
                op.complete(result, more: more)
                if !more { unmanaged.release() }
            }
            io_uring_cq_advance(&self.ring, UInt32(count))
        }
    }

    func close() {
        io_uring_queue_exit(&self.ring)
    }
}
