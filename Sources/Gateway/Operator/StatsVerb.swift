import Foundation

/// `gateway stats`: per partner and UTC day, the files received, what became of them, the deliveries made
/// and how long judging took, from the ledger.
public enum StatsVerb {
    /// The days `stats` covers when neither `--from` nor `--to` is given: today and the six before.
    public static let defaultDays = 7

    /// The time range a `stats` run covers: `[start, end)`, and the first and last UTC day it touches.
    public struct Window: Sendable, Hashable {
        /// The first instant counted.
        public var start: Date
        /// The first instant no longer counted.
        public var end: Date
        /// The UTC days of `start` and of the last instant counted, `YYYY-MM-DD`.
        public var firstDay: String
        public var lastDay: String
    }

    /// A `--from` or `--to` that cannot be used; the message names the option, as usage errors do.
    public struct UsageError: Error, Sendable, CustomStringConvertible {
        /// What to print.
        public var message: String
        public var description: String { message }
    }

    /// The window from `--from` and `--to` (inclusive): a date `YYYY-MM-DD` is a whole UTC day, a full ISO
    /// 8601 time (`2025-03-01T08:00:00Z`, `...T10:00:00+02:00`, fractions allowed) is that instant. Without
    /// `--from`, the window starts six days before the day of `--to` (or of `now`); without `--to`, it ends
    /// with the UTC day of `now`. Throws a `UsageError` naming the option for an unreadable or empty window.
    public static func window(from: String?, to: String?, now: Date) throws -> Window {
        let end: Date
        if let to {
            guard let bound = Bound(to) else { throw UsageError(message: invalid("--to", to)) }
            // A day counts to its end; an instant counts itself (the ledger keeps milliseconds).
            end = bound.isDay ? bound.date.addingTimeInterval(86_400) : bound.date.addingTimeInterval(0.001)
        } else {
            end = startOfUTCDay(now).addingTimeInterval(86_400)
        }
        let start: Date
        if let from {
            guard let bound = Bound(from) else { throw UsageError(message: invalid("--from", from)) }
            start = bound.date
        } else {
            start = startOfUTCDay(end.addingTimeInterval(-0.001)).addingTimeInterval(-Double(defaultDays - 1) * 86_400)
        }
        guard start < end else {
            let last = day(end.addingTimeInterval(-0.001))
            throw UsageError(message: "Invalid --from '\(from ?? day(start))': it is after " + (to.map { "--to '\($0)'" } ?? "today (\(last))"))
        }
        return Window(start: start, end: end, firstDay: day(start), lastDay: day(end.addingTimeInterval(-0.001)))
    }

    /// Prints the table (or JSON) for `--from`/`--to` (see `window`) and `partner`; days come from `now` when
    /// not given. Exit status: 0 when shown (no activity included), 1 when the ledger cannot be read, 2 on a
    /// bad date or a configuration error.
    public static func run(
        configPath: String, from: String?, to: String?, partner: String?, now: Date, json: Bool,
        out: OutputSink, err: OutputSink
    ) -> OperatorStatus {
        // The command checks the dates in `validate()`; this guards other callers with the same words.
        let window: Window
        do {
            window = try Self.window(from: from, to: to, now: now)
        } catch {
            err.line("\(error)")
            err.flush()
            return .usage
        }
        return OperatorSession.with(path: configPath, out: out, err: err) { session in
            let activity = try session.store?.activity(from: window.start, until: window.end, partner: partner) ?? []
            let document = Document(window: window, partner: partner, activity: activity)
            if json {
                out.line(OperatorFormat.json(document))
                return .success
            }
            if document.rows.isEmpty {
                var sentence = "no activity"
                if let partner { sentence += " for partner \(partner)" }
                sentence += window.isWholeDays && window.firstDay == window.lastDay ? " on \(window.firstDay)"
                    : " " + window.span
                if let partner, session.configuration.partner(id: partner) == nil {
                    sentence += " (no partner '\(partner)' is configured)"
                }
                out.line(sentence)
                return .success
            }
            out.write(document.text(window))
            return .success
        }
    }

    // MARK: - Dates

    /// A `--from` or `--to` value: a UTC day or an instant.
    struct Bound {
        var date: Date
        var isDay: Bool

        init?(_ text: String) {
            if text.utf8.count == 10, let date = StatsVerb.parseDay(text) {
                self.date = date
                isDay = true
                return
            }
            // Foundation's ISO 8601 parser accepts "Z" and numeric offsets, with or without fractions.
            for options: ISO8601DateFormatter.Options in [[.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds]] {
                let parser = ISO8601DateFormatter()
                parser.formatOptions = options
                if let date = parser.date(from: text) {
                    self.date = date
                    isDay = false
                    return
                }
            }
            return nil
        }
    }

    /// Midnight UTC of `YYYY-MM-DD`; nil when it is not a real date in that form.
    static func parseDay(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return nil }
        func number(_ r: Range<Int>) -> Int? {
            guard b[r].allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            return Int(String(decoding: b[r], as: UTF8.self))
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else { return nil }
        let components = DateComponents(year: y, month: m, day: d)
        let calendar = utcCalendar
        guard components.isValidDate(in: calendar) else { return nil }
        return calendar.date(from: components)
    }

    private static func invalid(_ option: String, _ value: String) -> String {
        "Invalid \(option) '\(value)': give a UTC date as YYYY-MM-DD or an ISO 8601 time such as 2025-03-01T08:00:00Z"
    }

    private static var utcCalendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }

    /// Midnight UTC of the day containing `date`.
    static func startOfUTCDay(_ date: Date) -> Date { utcCalendar.startOfDay(for: date) }

    /// An instant as ISO 8601 UTC, with milliseconds only when it has some (a window given to the millisecond).
    static func instant(_ date: Date) -> String {
        // Whole milliseconds first, so 10.000999... is not printed as second 10 minus a hair (second 9).
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let text = OperatorFormat.time(Date(timeIntervalSince1970: Double(milliseconds / 1000)))
        let ms = Int(milliseconds % 1000)
        guard ms > 0 else { return text }
        let digits = String(ms)
        return text.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// The UTC day of `date`, `YYYY-MM-DD`.
    static func day(_ date: Date) -> String { String(OperatorFormat.time(date).prefix(10)) }

    // MARK: - Numbers

    /// The nearest-rank percentile (`p` in 0...1) of sorted values: always a value that was measured.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// Seconds for a table cell: tenths under ten seconds, whole seconds under a minute, then `2m 5s`.
    static func seconds(_ value: Double?) -> String {
        guard let value else { return "-" }
        if value < 10 {
            let tenths = Int((value * 10).rounded())
            return "\(tenths / 10).\(tenths % 10)s"
        }
        if value < 60 { return "\(Int(value.rounded()))s" }
        return OperatorFormat.age(value)
    }

    /// Bytes for a table cell, in binary units with one decimal (`812 B`, `1.5 KiB`, `3.0 MiB`).
    static func bytes(_ value: Int64) -> String {
        if value < 1024 { return "\(value) B" }
        var amount = Double(value) / 1024
        for unit in ["KiB", "MiB", "GiB", "TiB"] {
            if amount < 1024 || unit == "TiB" {
                let tenths = Int((amount * 10).rounded())
                return "\(tenths / 10).\(tenths % 10) \(unit)"
            }
            amount /= 1024
        }
        return "\(value) B"
    }

    // MARK: - Documents (the JSON keys are part of the interface: add, never rename)

    /// What `stats` prints, as JSON or as text.
    struct Document: Encodable {
        /// The first and last UTC day of the window, `YYYY-MM-DD`, inclusive.
        var from: String
        var to: String
        /// The window's exact bounds (ISO 8601 UTC): `start` counted, `end` not.
        var start: String
        var end: String
        /// The `--partner` asked for; null for all.
        @Nullable var partner: String?
        /// One per partner and UTC day with activity, by day then partner.
        var rows: [Row]
        /// The whole window (its times over every judged batch, not an average of the rows').
        var total: Counts

        init(window: Window, partner: String?, activity: [PartnerDayActivity]) {
            from = window.firstDay
            to = window.lastDay
            start = StatsVerb.instant(window.start)
            end = StatsVerb.instant(window.end)
            self.partner = partner
            rows = activity.map { Row(day: $0.day, partner: $0.partner, counts: Counts($0)) }
            var all = PartnerDayActivity(day: "", partner: "")
            for a in activity {
                all.files += a.files; all.members += a.members; all.bytes += a.bytes
                all.accepted += a.accepted; all.rejected += a.rejected; all.quarantined += a.quarantined
                all.conflict += a.conflict; all.pending += a.pending; all.unpacked += a.unpacked
                all.delivered += a.delivered; all.deliveryFailed += a.deliveryFailed
                all.deliveryRetrying += a.deliveryRetrying
                all.manifests += a.manifests; all.consignments += a.consignments
                all.processingSeconds += a.processingSeconds
            }
            total = Counts(all)
        }

        /// The table: a line saying what it covers, a row per partner and day, the total, and what the times mean.
        func text(_ window: Window) -> String {
            let manifests = total.manifests > 0
            var header = ["DAY", "PARTNER", "FILES", "MEMBERS", "BYTES", "ACCEPTED", "REJECTED", "QUARANTINED", "CONFLICT",
                          "PENDING", "DELIVERED", "DLV FAILED", "DLV RETRY", "P50", "P95", "MAX"]
            if manifests { header += ["MANIFESTS", "CONSIGNMENTS"] }
            func cells(_ first: String, _ second: String, _ c: Counts) -> [String] {
                var row = [first, second, String(c.files), String(c.members), StatsVerb.bytes(c.bytes), String(c.accepted),
                           String(c.rejected), String(c.quarantined), String(c.conflict), String(c.pending),
                           String(c.delivered), String(c.deliveryFailed), String(c.deliveryRetrying),
                           StatsVerb.seconds(c.processingMedianSeconds), StatsVerb.seconds(c.processingP95Seconds),
                           StatsVerb.seconds(c.processingMaxSeconds)]
                if manifests { row += [String(c.manifests), String(c.consignments)] }
                return row
            }
            let partners = Set(rows.map(\.partner)).count
            let rowsText = rows.map { cells($0.day, $0.partner.isEmpty ? "(no partner)" : $0.partner, $0.counts) }
                + [cells("total", partner ?? OperatorFormat.count(partners, "partner"), total)]
            var lines = [window.description + (partner.map { ", partner \($0)" } ?? "")]
            lines += OperatorFormat.table(header, rowsText, alignments: [.left, .left] + Array(repeating: .right, count: header.count - 2))
            lines.append("Files, members, bytes and outcomes count by the day a file arrived; deliveries by the day they were")
            lines.append("made or given up. P50, P95, MAX: seconds from pickup to the batch's first judgment (its process job")
            lines.append("succeeded or was quarantined), over \(OperatorFormat.count(total.processed, "judged batch", plural: "judged batches")).")
            return lines.joined(separator: "\n") + "\n"
        }
    }

    /// One partner's counts on one UTC day: `day` and `partner`, then the keys of `Counts`.
    struct Row: Encodable {
        var day: String
        var partner: String
        var counts: Counts

        private enum Key: String, CodingKey { case day, partner }

        /// Flat: the day and partner beside the counts, as scripts expect one object per row.
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(day, forKey: .day)
            try container.encode(partner, forKey: .partner)
            try counts.encode(to: encoder)
        }
    }

    /// The numbers of a row or of the total.
    struct Counts: Encodable {
        /// Files dropped (top-level batches; an archive is one file), archive members, bytes of the files.
        var files: Int
        var members: Int
        var bytes: Int64
        /// Batches (files and members) by state now.
        var accepted: Int
        var rejected: Int
        var quarantined: Int
        var conflict: Int
        /// Not judged yet.
        var pending: Int
        /// Archives unpacked (their members carry the outcome).
        var unpacked: Int
        /// Deliver jobs succeeded, given up (failed, quarantined, cancelled), and waiting to retry.
        var delivered: Int
        var deliveryFailed: Int
        var deliveryRetrying: Int
        /// Batches with a processing time, and the times' median, 95th percentile and maximum in seconds.
        var processed: Int
        @Nullable var processingMedianSeconds: Double?
        @Nullable var processingP95Seconds: Double?
        @Nullable var processingMaxSeconds: Double?
        /// Manifest filings and the consignments they listed.
        var manifests: Int
        var consignments: Int

        init(_ a: PartnerDayActivity) {
            files = a.files; members = a.members; bytes = a.bytes
            accepted = a.accepted; rejected = a.rejected; quarantined = a.quarantined; conflict = a.conflict
            pending = a.pending; unpacked = a.unpacked
            delivered = a.delivered; deliveryFailed = a.deliveryFailed; deliveryRetrying = a.deliveryRetrying
            let sorted = a.processingSeconds.sorted()
            processed = sorted.count
            processingMedianSeconds = StatsVerb.percentile(sorted, 0.5)
            processingP95Seconds = StatsVerb.percentile(sorted, 0.95)
            processingMaxSeconds = sorted.last
            manifests = a.manifests; consignments = a.consignments
        }
    }
}

extension StatsVerb.Window: CustomStringConvertible {
    /// Whether the window is whole UTC days (given as dates, or the default).
    var isWholeDays: Bool {
        StatsVerb.startOfUTCDay(start) == start && StatsVerb.startOfUTCDay(end) == end
    }

    /// "from DAY to DAY", or with instants, both counted, when the window cuts a day.
    var span: String {
        isWholeDays ? "from \(firstDay) to \(lastDay)"
            : "from \(StatsVerb.instant(start)) to \(StatsVerb.instant(end.addingTimeInterval(-0.001)))"
    }

    /// The span, saying when it is whole UTC days.
    public var description: String { isWholeDays ? span + " (UTC days)" : span }
}
