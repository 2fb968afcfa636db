#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// When a scheduled job is due: a 5-field cron expression or an `@` shorthand, evaluated in UTC.
///
/// Fields are `minute hour day-of-month month day-of-week`, each `*`, a value, a range `a-b`, a step
/// (`*/n`, `a-b/n`, `a/n` = `a-max/n`) or a comma list of those; months take `JAN`..`DEC` and weekdays
/// `SUN`..`SAT` (0 and 7 are both Sunday), case-insensitively. Shorthands: `@yearly` (`@annually`),
/// `@monthly`, `@weekly`, `@daily` (`@midnight`), `@hourly`, and `@every N{s,m,h}`.
///
/// Day-of-month and day-of-week follow Vixie cron: when both are restricted (neither field starts
/// with `*`) a day matches if *either* matches; when one starts with `*` only the other applies.
///
/// Times are UTC, always: a gateway that talks to partners in several time zones, and whose ledger
/// records UTC, must not skip or repeat a run at a daylight-saving change, and a schedule must mean
/// the same on every host whatever its `TZ`. Sites that think in local time write the offset into
/// the hours (Beijing 08:00 is `0 0 * * *`).
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    /// The text the schedule was parsed from, as written, for messages and summaries.
    public let expression: String
    private let kind: Kind

    private enum Kind: Sendable, Hashable {
        case fields(minutes: UInt64, hours: UInt32, days: UInt32, months: UInt16, weekdays: UInt8,
                    daysRestricted: Bool, weekdaysRestricted: Bool)
        /// A fixed interval in seconds, aligned to the Unix epoch so every host and every rerun agree.
        case every(Int)
    }

    /// Why an expression was refused; names the field so the operator knows which part to fix.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The field at fault: `minute`, `hour`, `day-of-month`, `month`, `day-of-week`, or `expression` for the whole.
        public var field: String
        /// What is wrong with it.
        public var message: String

        /// Creates an error for `field`.
        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }

        /// `field: message`, as configuration errors quote it.
        public var description: String { "\(field): \(message)" }
    }

    /// The field names in order, as errors use them.
    public static let fieldNames = ["minute", "hour", "day-of-month", "month", "day-of-week"]

    /// Parses a cron expression or shorthand; throws a ``ParseError`` naming the first bad field.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingWhitespace()
        expression = trimmed
        if trimmed.hasPrefix("@") {
            kind = try Self.shorthand(trimmed)
            return
        }
        let parts = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard parts.count == 5 else {
            throw ParseError(field: "expression",
                             message: "'\(trimmed)' has \(parts.count) field\(parts.count == 1 ? "" : "s"); a cron expression has 5 (minute hour day-of-month month day-of-week) or is an @ shorthand")
        }
        let minutes = try Self.parseField(parts[0], name: "minute", range: 0...59, names: [:])
        let hours = try Self.parseField(parts[1], name: "hour", range: 0...23, names: [:])
        let days = try Self.parseField(parts[2], name: "day-of-month", range: 1...31, names: [:])
        let months = try Self.parseField(parts[3], name: "month", range: 1...12, names: Self.monthNames)
        var weekdays = try Self.parseField(parts[4], name: "day-of-week", range: 0...7, names: Self.weekdayNames)
        if weekdays & (1 << 7) != 0 { weekdays = (weekdays | 1) & ~(1 << 7) }  // 7 is Sunday too
        kind = .fields(minutes: minutes, hours: UInt32(hours), days: UInt32(days), months: UInt16(months),
                       weekdays: UInt8(weekdays), daysRestricted: !parts[2].hasPrefix("*"),
                       weekdaysRestricted: !parts[4].hasPrefix("*"))
    }

    /// The expression as written.
    public var description: String { expression }

    /// The first time strictly after `date` at which the schedule fires, in UTC; nil if it never does
    /// (such as `0 0 30 2 *`, which names February 30th).
    ///
    /// Field schedules fire on whole minutes; `@every` fires on multiples of its interval since the epoch.
    public func next(after date: Date) -> Date? {
        let t = date.timeIntervalSince1970
        guard t.isFinite else { return nil }
        switch kind {
        case .every(let seconds):
            let n = (t / Double(seconds)).rounded(.down) + 1
            return Date(timeIntervalSince1970: n * Double(seconds))
        case let .fields(minutes, hours, days, months, weekdays, daysRestricted, weekdaysRestricted):
            // Start at the next whole minute, then skip whole months, days and hours that cannot match.
            var minuteOfEpoch = Int((t / 60).rounded(.down)) + 1
            var day = Self.floorDiv(minuteOfEpoch, 1440)
            var civil = CivilDate.civilFromDays(day)
            let limitYear = civil.year + 30  // leap-day schedules recur within 8 years; 30 is generous
            var minuteOfDay = minuteOfEpoch - day * 1440
            while civil.year <= limitYear {
                if months & (1 << civil.month) == 0 {
                    // First day of the next month.
                    let (y, m) = civil.month == 12 ? (civil.year + 1, 1) : (civil.year, civil.month + 1)
                    day = CivilDate.daysFromCivil(y, m, 1)
                    civil = (y, m, 1)
                    minuteOfDay = 0
                    continue
                }
                let weekday = Self.floorMod(day + 4, 7)  // 1970-01-01 was a Thursday
                let domOK = days & (1 << civil.day) != 0
                let dowOK = weekdays & (1 << weekday) != 0
                let dayOK = daysRestricted && weekdaysRestricted ? (domOK || dowOK) : (domOK && dowOK)
                if dayOK {
                    var hour = minuteOfDay / 60, minute = minuteOfDay % 60
                    while hour < 24 {
                        if hours & (1 << hour) != 0 {
                            while minute < 60 {
                                if minutes & (1 << UInt64(minute)) != 0 {
                                    minuteOfEpoch = day * 1440 + hour * 60 + minute
                                    return Date(timeIntervalSince1970: Double(minuteOfEpoch) * 60)
                                }
                                minute += 1
                            }
                        }
                        hour += 1
                        minute = 0
                    }
                }
                day += 1
                civil = CivilDate.civilFromDays(day)
                minuteOfDay = 0
            }
            return nil
        }
    }

    // MARK: Parsing

    private static let monthNames: [String: Int] = [
        "JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
        "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12,
    ]
    private static let weekdayNames: [String: Int] = ["SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6]

    private static func shorthand(_ text: String) throws -> Kind {
        let star = (minutes: UInt64.max >> 4, hours: UInt32(0xFF_FFFF), days: UInt32(0xFFFF_FFFE),
                    months: UInt16(0x1FFE), weekdays: UInt8(0x7F))
        func fields(minutes: UInt64 = 1, hours: UInt32 = 1, days: UInt32? = nil, months: UInt16? = nil, weekdays: UInt8? = nil) -> Kind {
            .fields(minutes: minutes, hours: hours, days: days ?? star.days, months: months ?? star.months,
                    weekdays: weekdays ?? star.weekdays, daysRestricted: days != nil, weekdaysRestricted: weekdays != nil)
        }
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let word = words[0].lowercased()
        if word != "@every" && words.count != 1 {
            throw ParseError(field: "expression", message: "'\(text)': \(words[0]) takes nothing after it")
        }
        switch word {
        case "@yearly", "@annually": return fields(days: 1 << 1, months: 1 << 1)
        case "@monthly": return fields(days: 1 << 1)
        case "@weekly": return fields(weekdays: 1)
        case "@daily", "@midnight": return fields()
        case "@hourly": return fields(hours: star.hours)
        case "@every":
            guard words.count == 2, let seconds = parseDuration(words[1]) else {
                throw ParseError(field: "expression", message: "'\(text)' is not '@every N' with N a whole number of seconds, minutes or hours (such as 30s, 5m, 1h)")
            }
            guard seconds >= 1 && seconds <= 31 * 86_400 else {
                throw ParseError(field: "expression", message: "'\(text)': the interval must be between 1 second and 31 days")
            }
            return .every(seconds)
        default:
            throw ParseError(field: "expression",
                             message: "'\(text)' is not a known shorthand (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every N{s,m,h})")
        }
    }

    /// `30s`, `5m`, `2h` or a bare number of seconds.
    private static func parseDuration(_ word: String) -> Int? {
        var digits = Substring(word), unit = 1
        switch word.last {
        case "s": unit = 1; digits = digits.dropLast()
        case "m": unit = 60; digits = digits.dropLast()
        case "h": unit = 3600; digits = digits.dropLast()
        default: break
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.count <= 9,
              let n = Int(digits) else { return nil }
        return n * unit
    }

    /// A field as a bit set of its allowed values.
    private static func parseField(_ text: String, name: String, range: ClosedRange<Int>, names: [String: Int]) throws -> UInt64 {
        func fail(_ message: String) -> ParseError { ParseError(field: name, message: message) }
        func value(_ token: Substring) throws -> Int {
            if let n = Int(token), token.allSatisfy({ $0.isASCII && $0.isNumber }) {
                guard range.contains(n) else {
                    throw fail("\(n)\(token == text ? "" : " in '\(text)'") is out of range \(range.lowerBound)-\(range.upperBound)")
                }
                return n
            }
            if let n = names[token.uppercased()] { return n }
            throw fail("'\(token)' in '\(text)' is not a number\(names.isEmpty ? "" : " or a name")")
        }
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw fail("'\(text)' has an empty list item") }
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2 else { throw fail("'\(item)' has more than one '/'") }
            var step = 1
            if stepParts.count == 2 {
                guard let s = Int(stepParts[1]), stepParts[1].allSatisfy({ $0.isASCII && $0.isNumber }), s >= 1 else {
                    throw fail("the step in '\(item)' must be a whole number of at least 1")
                }
                step = s
            }
            let base = stepParts[0]
            var low: Int, high: Int
            if base == "*" {
                low = range.lowerBound; high = range.upperBound
                if name == "day-of-week" { high = 6 }  // 7 repeats Sunday; */2 must not add it twice
            } else if let dash = base.firstIndex(of: "-") {
                low = try value(base[..<dash])
                high = try value(base[base.index(after: dash)...])
                guard low <= high else { throw fail("the range '\(base)' runs backwards; write it as two ranges") }
            } else {
                low = try value(base)
                high = stepParts.count == 2 ? range.upperBound : low  // `a/n` means `a-max/n`
            }
            for v in stride(from: low, through: high, by: step) { bits |= 1 << UInt64(v) }
        }
        return bits
    }

    private static func floorDiv(_ a: Int, _ b: Int) -> Int { (a - floorMod(a, b)) / b }
    private static func floorMod(_ a: Int, _ b: Int) -> Int { ((a % b) + b) % b }
}

extension String {
    /// The string without leading and trailing spaces, tabs and line breaks (no Foundation needed).
    fileprivate func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
