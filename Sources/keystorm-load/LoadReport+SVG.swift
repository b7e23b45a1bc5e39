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

extension LoadReport {
    /// A self-contained SVG: the latency over time (p50, p99 and max of the total latency per
    /// interval, errors marked) above a histogram of the total latency (power-of-two buckets).
    func svg() -> String {
        let width = 960.0
        let left = 70.0
        let right = width - 20
        var out: [String] = []
        out.append(
            #"<svg xmlns="http://www.w3.org/2000/svg" width="960" height="640" viewBox="0 0 960 640" "#
                + #"font-family="sans-serif" font-size="12">"#
        )
        out.append(#"<rect x="0" y="0" width="960" height="640" fill="white"/>"#)
        let title =
            "keystorm-load \(self.scenario): \(Self.format(self.throughput, 1)) \(self.operation)/s, "
            + "\(self.succeeded) ok, \(self.failed) failed, "
            + (self.configuration.connectionPerOperation ? "connection per operation" : "persistent connections")
        out.append(#"<text x="\#(left)" y="22" font-size="15" font-weight="bold">\#(Self.escape(title))</text>"#)

        // Panel 1: latency over time.
        let top1 = 50.0
        let bottom1 = 320.0
        out.append(#"<text x="\#(left)" y="\#(top1 - 6)">total latency per interval (ms) over time (s)</text>"#)
        let timeEnd = max(self.seconds, (self.timeline.last.map { $0.start + $0.width }) ?? 0, 0.001)
        let latencyTop = Self.niceCeiling(self.timeline.map(\.max).max() ?? 1)
        func x(_ t: Double) -> Double { left + (right - left) * t / timeEnd }
        func y1(_ ms: Double) -> Double { bottom1 - (bottom1 - top1) * min(ms, latencyTop) / latencyTop }
        out.append(contentsOf: Self.axes(left: left, right: right, top: top1, bottom: bottom1))
        for i in 0...4 {
            let value = latencyTop * Double(i) / 4
            out.append(
                #"<text x="\#(left - 6)" y="\#(Self.format(y1(value), 1))" text-anchor="end" dy="4">\#(Self.format(value, 2))</text>"#
            )
            let t = timeEnd * Double(i) / 4
            out.append(
                #"<text x="\#(Self.format(x(t), 1))" y="\#(bottom1 + 16)" text-anchor="middle">\#(Self.format(t, 1))</text>"#
            )
        }
        let series: [(String, String, KeyPath<TimelinePoint, Double>, String)] = [
            ("max", "#999999", \.max, #" stroke-dasharray="4 3""#),
            ("p99", "#e4572e", \.p99, ""),
            ("p50", Self.blue, \.p50, ""),
        ]
        for (index, (name, color, path, dash)) in series.enumerated() {
            let points = self.timeline.map { point in
                "\(Self.format(x(point.start + point.width / 2), 1)),\(Self.format(y1(point[keyPath: path]), 1))"
            }
            if !points.isEmpty {
                out.append(
                    #"<polyline fill="none" stroke="\#(color)" stroke-width="1.5"\#(dash) points="\#(points.joined(separator: " "))"/>"#
                )
            }
            let legendX = right - 200 + Double(index) * 60
            out.append(#"<rect x="\#(legendX)" y="\#(top1 - 16)" width="12" height="3" fill="\#(color)"/>"#)
            out.append(#"<text x="\#(legendX + 16)" y="\#(top1 - 11)">\#(name)</text>"#)
        }
        for point in self.timeline where point.errors > 0 {
            out.append(
                #"<circle cx="\#(Self.format(x(point.start + point.width / 2), 1))" cy="\#(bottom1 - 4)" r="3" fill="\#(Self.red)">"#
                    + #"<title>\#(point.errors) errors</title></circle>"#
            )
        }

        // Panel 2: histogram of the total latency.
        let top2 = 380.0
        let bottom2 = 600.0
        out.append(
            #"<text x="\#(left)" y="\#(top2 - 6)">operations by total latency (ms, power-of-two buckets)</text>"#
        )
        out.append(contentsOf: Self.axes(left: left, right: right, top: top2, bottom: bottom2))
        let countTop = Double(max(1, self.histogram.map(\.count).max() ?? 1))
        let slot = (right - left) / Double(max(1, self.histogram.count))
        for (index, bucket) in self.histogram.enumerated() {
            let height = (bottom2 - top2) * Double(bucket.count) / countTop
            let barX = left + Double(index) * slot + 1
            out.append(
                #"<rect x="\#(Self.format(barX, 1))" y="\#(Self.format(bottom2 - height, 1))" "#
                    + #"width="\#(Self.format(max(1, slot - 2), 1))" height="\#(Self.format(height, 1))" fill="\#(Self.blue)">"#
                    + #"<title>\#(Self.format(bucket.lowerMs))-\#(Self.format(bucket.upperMs)) ms: \#(bucket.count)</title></rect>"#
            )
            let every = max(1, self.histogram.count / 10)
            if index % every == 0 {
                out.append(
                    #"<text x="\#(Self.format(barX, 1))" y="\#(bottom2 + 16)">\#(Self.format(bucket.lowerMs, 3))</text>"#
                )
            }
        }
        out.append(#"<text x="\#(left - 6)" y="\#(top2 + 4)" text-anchor="end">\#(Int(countTop))</text>"#)
        out.append(#"<text x="\#(left - 6)" y="\#(bottom2)" text-anchor="end">0</text>"#)
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    private static let red = "#c0392b"
    private static let blue = "#2e86de"

    private static func axes(left: Double, right: Double, top: Double, bottom: Double) -> [String] {
        [
            #"<line x1="\#(left)" y1="\#(bottom)" x2="\#(right)" y2="\#(bottom)" stroke="black"/>"#,
            #"<line x1="\#(left)" y1="\#(top)" x2="\#(left)" y2="\#(bottom)" stroke="black"/>"#,
        ]
    }

    /// 1, 2 or 5 times a power of ten, at or above `value`.
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        var magnitude = 1.0
        while magnitude * 10 <= value { magnitude *= 10 }
        while magnitude > value { magnitude /= 10 }
        for step in [1.0, 2, 5, 10] where step * magnitude >= value { return step * magnitude }
        return 10 * magnitude
    }

    /// Text for an SVG/XML text node or attribute.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
