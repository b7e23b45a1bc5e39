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
import NIOPosix
import Synchronization

/// A progress line on standard error, redrawn four times a second while standard error is a
/// terminal: done/total, rate, errors and the p99 of the total latency. Runs on a thread of its
/// own (terminal writes may block), never on the cooperative pool.
final class ProgressLine: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let label: String
    private let total: Int?
    private let recorder: LoadRecorder

    /// Whether standard error is a terminal.
    static var isTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    init(label: String, total: Int?, recorder: LoadRecorder) {
        self.label = label
        self.total = total
        self.recorder = recorder
    }

    /// The line for the current counts (without the carriage return).
    static func render(label: String, done: Int, total: Int?, failed: Int, seconds: Double, p99Micros: UInt64) -> String
    {
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let of = total.map { "/\($0)" } ?? ""
        return "\(label) \(done)\(of)  \(LoadReport.format(rate, 1))/s  errors \(failed)  "
            + "p99 \(LoadReport.format(Double(p99Micros) / 1000, 2)) ms"
    }

    /// Starts drawing; ``stop()`` ends the line.
    func start() {
        let thread = Thread { [self] in
            var width = 0
            while !self.stopped.load(ordering: .relaxed) {
                let (done, failed, p99) = self.recorder.progress()
                let seconds = (ContinuousClock.now - self.recorder.start).seconds
                let line = Self.render(
                    label: self.label,
                    done: done,
                    total: self.total,
                    failed: failed,
                    seconds: seconds,
                    p99Micros: p99
                )
                let padding = String(repeating: " ", count: max(0, width - line.count))
                width = line.count
                FileHandle.standardError.write(Data(("\r" + line + padding).utf8))
                Thread.sleep(forTimeInterval: 0.25)
            }
            FileHandle.standardError.write(Data("\n".utf8))
        }
        thread.name = "keystorm-load progress"
        thread.start()
    }

    func stop() {
        self.stopped.store(true, ordering: .relaxed)
    }
}

/// Writes the reports a run asked for, on NIO's thread pool.
enum ReportWriter {
    static func write(_ report: LoadReport, to output: OutputOptions) async throws {
        let json = try report.json()
        let markdown = report.markdown()
        let svg = report.svg()
        let (jsonPath, markdownPath, svgPath) = (output.json, output.markdown, output.svg)
        try await NIOThreadPool.singleton.runIfActive {
            if let path = jsonPath { try json.write(to: URL(fileURLWithPath: path)) }
            if let path = markdownPath { try Data(markdown.utf8).write(to: URL(fileURLWithPath: path)) }
            if let path = svgPath { try Data(svg.utf8).write(to: URL(fileURLWithPath: path)) }
            FileHandle.standardOutput.write(Data(markdown.utf8))
        }
    }
}
