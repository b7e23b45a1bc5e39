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

/// Reads the ISO 8601 date-times of the KMIP XML profile, e.g. `2012-04-27T08:12:21+00:00`,
/// `2012-04-27T08:12:21Z` or `2019-05-01T10:00:00.123456Z`.
enum ISO8601 {
    /// Microseconds since the POSIX epoch, or `nil` if the text is not such a date-time.
    static func microseconds(_ text: String) -> Int64? {
        let c = Array(text.utf8)
        guard c.count >= 19, c[4] == UInt8(ascii: "-"), c[7] == UInt8(ascii: "-"),
            c[10] == UInt8(ascii: "T") || c[10] == UInt8(ascii: "t"),
            c[13] == UInt8(ascii: ":"), c[16] == UInt8(ascii: ":"),
            let year = Self.number(c, 0, 4), let month = Self.number(c, 5, 2), let day = Self.number(c, 8, 2),
            let hour = Self.number(c, 11, 2), let minute = Self.number(c, 14, 2), let second = Self.number(c, 17, 2),
            (1...12).contains(month), (1...Self.daysIn(month: month, year: year)).contains(day),
            hour < 24, minute < 60, second < 60
        else { return nil }

        var index = 19
        var fraction: Int64 = 0
        if index < c.count, c[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < c.count, let d = Self.digit(c[index]) {
                if digits < 6 { fraction = fraction * 10 + d }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 6) { fraction *= 10 }
        }

        var zoneOffset: Int64 = 0
        guard index < c.count else { return nil }
        switch c[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard c.count == index + 6, c[index + 3] == UInt8(ascii: ":"),
                let zh = Self.number(c, index + 1, 2), let zm = Self.number(c, index + 4, 2), zh < 24, zm < 60
            else { return nil }
            zoneOffset = (zh * 3600 + zm * 60) * (c[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        default:
            return nil
        }
        guard index == c.count else { return nil }

        let days = Self.daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - zoneOffset
        return seconds * 1_000_000 + fraction
    }

    private static func digit(_ c: UInt8) -> Int64? {
        c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") ? Int64(c - UInt8(ascii: "0")) : nil
    }

    private static func number(_ c: [UInt8], _ start: Int, _ count: Int) -> Int64? {
        guard start + count <= c.count else { return nil }
        var value: Int64 = 0
        for i in start..<(start + count) {
            guard let d = Self.digit(c[i]) else { return nil }
            value = value * 10 + d
        }
        return value
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
