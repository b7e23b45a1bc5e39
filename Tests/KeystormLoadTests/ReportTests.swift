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
import Histogram
import Testing

@testable import keystorm_load

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("keystorm-load reports")
struct ReportTests {
    /// A run of 1,000 Gets taking 1, 2, ... 1,000 ms, one ending every 10 ms, the 500th failed.
    static func recorded() -> LoadRecorder.State {
        let start = ContinuousClock.now
        let recorder = LoadRecorder(start: start)
        for i in 1...1000 {
            let latency = Duration.milliseconds(i)
            let end = start + .milliseconds(10 * i)
            if i == 500 {
                recorder.recordFailure(
                    LoadFailure(.kmip(reason: "ItemNotFound"), "no such key"),
                    total: latency,
                    end: end
                )
            } else {
                recorder.recordSuccess("Get", operation: latency, total: latency, end: end)
            }
        }
        let timings = ConnectionTimings(
            endpoint: Endpoint(host: "127.0.0.1", port: 5696),
            connect: .microseconds(250),
            handshake: .milliseconds(2),
            failovers: 1
        )
        recorder.recordConnection(timings)
        return recorder.snapshot()
    }

    static func report() -> LoadReport {
        LoadReport(
            scenario: "bootstorm",
            operation: "Get",
            startedAt: "2026-11-29T20:00:00Z",
            targets: ["127.0.0.1:5696"],
            configuration: .init(
                hosts: 50,
                keysPerHost: 20,
                keys: 1000,
                popularity: "vm",
                connectionPerOperation: true,
                resumption: false,
                concurrency: 50,
                durationLimit: nil,
                countLimit: 1000,
                kmipVersion: "1.1"
            ),
            setup: .init(keys: 1000, created: 1000, reused: 0, seconds: 2, createRate: 500),
            recorded: Self.recorded(),
            seconds: 10
        )
    }

    @Test func percentilesComeFromTheHistogram() throws {
        let report = Self.report()
        let total = try #require(report.latency["total"])
        #expect(total.count == 1000)
        // HdrHistogram with 3 significant digits: within 0.1% of the exact order statistic.
        for (value, exact) in [
            (total.p50, 500.0), (total.p90, 900.0), (total.p99, 990.0), (total.p999, 999.0), (total.max, 1000.0),
        ] {
            #expect(abs(value - exact) <= exact * 0.001 + 0.001, "\(value) vs \(exact)")
        }
        #expect(abs(total.min - 1) < 0.01)
        #expect(abs(total.mean - 500.5) < 1)
        // Operation latency counts only the successes.
        #expect(report.latency["operation"]?.count == 999)
        #expect(report.byOperation["Get"]?.count == 999)
        #expect(report.latency["connect"]?.count == 1)
        #expect(abs((report.latency["connect"]?.p50 ?? 0) - 0.25) < 0.001)
        #expect(abs((report.latency["handshake"]?.max ?? 0) - 2) < 0.01)
    }

    @Test func countsThroughputAndErrors() {
        let report = Self.report()
        #expect(report.operations == 1000 && report.succeeded == 999 && report.failed == 1)
        #expect(report.connections == 1 && report.failovers == 1)
        #expect(abs(report.throughput - 99.9) < 1e-9)
        #expect(report.errors == ["kmip:ItemNotFound": 1])
        #expect(report.errorExamples["kmip:ItemNotFound"] == "no such key")
    }

    @Test func histogramBucketsHoldEveryOperation() {
        let report = Self.report()
        #expect(report.histogram.reduce(0) { $0 + $1.count } == 1000)
        for (a, b) in zip(report.histogram, report.histogram.dropFirst()) {
            #expect(a.upperMs == b.lowerMs)
        }
        // 1 ms = 1000 µs falls in [512, 1024) µs; 1000 ms in [524288, 1048576) µs.
        #expect(report.histogram.first?.lowerMs == 0.512)
        #expect(report.histogram.last?.upperMs == 1048.576)
    }

    @Test func timelineCoversTheRun() {
        let report = Self.report()
        // 10 s of samples: 0.1 s intervals (at most 120 intervals).
        #expect(report.timeline.first?.width == 0.1)
        #expect(report.timeline.reduce(0) { $0 + $1.operations } == 1000)
        #expect(report.timeline.reduce(0) { $0 + $1.errors } == 1)
        for point in report.timeline {
            #expect(point.p50 <= point.p99 && point.p99 <= point.max)
        }
    }

    @Test func nearestRankPercentile() {
        let values: [UInt32] = Array(1...100)
        #expect(LoadReport.percentile(values, 50) == 50)
        #expect(LoadReport.percentile(values, 99) == 99)
        #expect(LoadReport.percentile(values, 100) == 100)
        #expect(LoadReport.percentile([7], 99.9) == 7)
        #expect(LoadReport.percentile([], 50) == 0)
    }

    @Test func jsonRoundTripsAndHasTheDocumentedFields() throws {
        let report = Self.report()
        let data = try report.json()
        #expect(try JSONDecoder().decode(LoadReport.self, from: data) == report)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for field in [
            "scenario", "operations", "succeeded", "failed", "throughput", "errors", "latency", "histogram", "timeline",
            "setup",
        ] {
            #expect(object[field] != nil, "\(field)")
        }
        let latency = try #require(object["latency"] as? [String: Any])
        #expect(Set(latency.keys) == ["connect", "handshake", "operation", "total"])
    }

    @Test func markdownHasTheTables() {
        let markdown = Self.report().markdown()
        #expect(markdown.hasPrefix("# keystorm-load bootstorm: 99.9 Get/s"))
        #expect(markdown.contains("| operations | succeeded | failed | connections | failovers | seconds | Get/s |"))
        #expect(markdown.contains("| 1000 | 999 | 1 | 1 | 1 | 10.000 | 99.9 |"))
        #expect(markdown.contains("| phase | count | p50 | p90 | p99 | p99.9 | max | mean |"))
        #expect(markdown.contains("| kmip:ItemNotFound | 1 | no such key |"))
        #expect(markdown.contains("one TLS connection per operation"))
        // Every table row has the same number of cells as its header.
        for table in markdown.components(separatedBy: "\n\n") where table.hasPrefix("|") {
            let rows = table.split(separator: "\n")
            let cells = Set(rows.map { $0.filter { $0 == "|" }.count })
            #expect(cells.count == 1, "\(table)")
        }
    }

    @Test func svgIsWellFormedXML() throws {
        let svg = Self.report().svg()
        let delegate = SVGCounter()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = delegate
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        #expect(delegate.root == "svg")
        #expect(delegate.elements["polyline"] == 3)
        #expect(delegate.elements["rect", default: 0] >= Self.report().histogram.count)
        #expect(delegate.elements["circle"] != nil)  // the interval with the failure
    }

    @Test func svgOfAnEmptyRunAndEscapedText() throws {
        var report = Self.report()
        report.timeline = []
        report.histogram = []
        report.scenario = "a<b & \"c\""
        let parser = XMLParser(data: Data(report.svg().utf8))
        let delegate = SVGCounter()
        parser.delegate = delegate
        #expect(parser.parse())
        #expect(delegate.text.contains("a<b & \"c\""))
    }

    @Test func niceCeiling() {
        #expect(LoadReport.niceCeiling(0.7) == 1)
        #expect(LoadReport.niceCeiling(1.3) == 2)
        #expect(LoadReport.niceCeiling(3) == 5)
        #expect(LoadReport.niceCeiling(999) == 1000)
        #expect(LoadReport.niceCeiling(0) == 1)
    }

    @Test func progressLine() {
        let line = ProgressLine.render(
            label: "bootstorm",
            done: 500,
            total: 1000,
            failed: 2,
            seconds: 2,
            p99Micros: 3210
        )
        #expect(line == "bootstorm 500/1000  250.0/s  errors 2  p99 3.21 ms")
    }

    @Test func failureKinds() {
        #expect(LoadFailure(.connect, "refused").key == "connect")
        #expect(LoadFailure(.kmip(reason: "PermissionDenied"), "x").key == "kmip:PermissionDenied")
        #expect(LoadFailure(.timeout, "x").description == "timeout: x")
    }
}

/// Counts the elements of a parsed SVG and collects its text.
private final class SVGCounter: NSObject, XMLParserDelegate {
    var root: String?
    var elements: [String: Int] = [:]
    var text = ""

    func parser(
        _ parser: XMLParser,
        didStartElement elementName: String,
        namespaceURI: String?,
        qualifiedName qName: String?,
        attributes attributeDict: [String: String] = [:]
    ) {
        if self.root == nil { self.root = elementName }
        self.elements[elementName, default: 0] += 1
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        self.text += string
    }
}
