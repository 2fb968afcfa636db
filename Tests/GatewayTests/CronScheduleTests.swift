import Foundation
import Gateway
import Jobs
import Testing

/// A UTC time from `YYYY-MM-DDTHH:MM:SSZ`.
private func utc(_ text: String) -> Date {
    guard let date = ConfigurationCheck.parseTimestamp(text) else { fatalError("bad test time \(text)") }
    return date
}

/// The next `count` firing times after `start`, as ISO 8601 UTC.
private func runs(_ expression: String, after start: String, count: Int = 1) throws -> [String] {
    let schedule = try CronSchedule(parsing: expression)
    var at = utc(start)
    var out: [String] = []
    for _ in 0..<count {
        guard let next = schedule.next(after: at) else { out.append("never"); break }
        out.append(ConfigurationCheck.timestamp(next))
        at = next
    }
    return out
}

@Suite("Cron schedules (UTC)")
struct CronScheduleTests {
    @Test("next run is strictly after the given time, on whole minutes", arguments: [
        ("* * * * *", "2025-01-31T09:30:00Z", ["2025-01-31T09:31:00Z", "2025-01-31T09:32:00Z"]),
        ("* * * * *", "2025-01-31T09:30:59Z", ["2025-01-31T09:31:00Z", "2025-01-31T09:32:00Z"]),
        ("30 18 * * *", "2025-01-31T18:30:00Z", ["2025-02-01T18:30:00Z", "2025-02-02T18:30:00Z"]),
        ("*/15 9-17 * * MON-FRI", "2025-01-31T17:50:00Z", ["2025-02-03T09:00:00Z", "2025-02-03T09:15:00Z"]),
        ("5/20 * * * *", "2025-01-31T10:30:00Z", ["2025-01-31T10:45:00Z", "2025-01-31T11:05:00Z"]),
        ("0,30 8 * * *", "2025-01-31T08:00:00Z", ["2025-01-31T08:30:00Z", "2025-02-01T08:00:00Z"]),
        ("0 6 1 JAN,jul *", "2025-02-01T00:00:00Z", ["2025-07-01T06:00:00Z", "2026-01-01T06:00:00Z"]),
        ("0 0 * * 7", "2025-01-31T00:00:00Z", ["2025-02-02T00:00:00Z", "2025-02-09T00:00:00Z"]),
        ("0 0 * * SUN", "2025-01-31T00:00:00Z", ["2025-02-02T00:00:00Z", "2025-02-09T00:00:00Z"]),
    ])
    func fields(expression: String, start: String, expected: [String]) throws {
        #expect(try runs(expression, after: start, count: expected.count) == expected)
    }

    @Test("month ends, leap days and the year boundary")
    func monthEnds() throws {
        // The 31st skips the months that have none.
        #expect(try runs("0 0 31 * *", after: "2025-01-31T00:00:00Z", count: 3)
                == ["2025-03-31T00:00:00Z", "2025-05-31T00:00:00Z", "2025-07-31T00:00:00Z"])
        // February 29th waits for the next leap year.
        #expect(try runs("0 0 29 2 *", after: "2025-01-01T00:00:00Z", count: 2)
                == ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"])
        // February 30th never comes.
        #expect(try runs("0 0 30 2 *", after: "2025-01-01T00:00:00Z") == ["never"])
        #expect(try runs("* * * * *", after: "2025-12-31T23:59:30Z") == ["2026-01-01T00:00:00Z"])
        #expect(try runs("59 23 28-31 * *", after: "2024-02-28T23:59:00Z", count: 2)
                == ["2024-02-29T23:59:00Z", "2024-03-28T23:59:00Z"])
    }

    @Test("day-of-month and day-of-week both restricted: either matches (OR)")
    func domOrDow() throws {
        // 2025-01-03, 10 and 17 are Fridays; the 13th is a Monday.
        #expect(try runs("0 12 13 * FRI", after: "2025-01-01T00:00:00Z", count: 4)
                == ["2025-01-03T12:00:00Z", "2025-01-10T12:00:00Z", "2025-01-13T12:00:00Z", "2025-01-17T12:00:00Z"])
        #expect(try runs("0 0 1,15 * MON", after: "2025-01-31T00:00:00Z", count: 3)
                == ["2025-02-01T00:00:00Z", "2025-02-03T00:00:00Z", "2025-02-10T00:00:00Z"])
    }

    @Test("a field starting with * leaves the other day field alone (AND), as in Vixie cron")
    func domAndStarredDow() throws {
        // */2 is Sunday, Tuesday, Thursday, Saturday: the 13th only when it falls on one (2025-02-13 is a Thursday).
        #expect(try runs("0 0 13 * */2", after: "2025-01-01T00:00:00Z") == ["2025-02-13T00:00:00Z"])
        #expect(try runs("0 0 * * FRI", after: "2025-01-01T00:00:00Z") == ["2025-01-03T00:00:00Z"])
    }

    @Test("shorthands", arguments: [
        ("@hourly", "2025-01-31T09:30:00Z", "2025-01-31T10:00:00Z"),
        ("@daily", "2025-01-31T09:30:00Z", "2025-02-01T00:00:00Z"),
        ("@midnight", "2025-01-31T00:00:00Z", "2025-02-01T00:00:00Z"),
        ("@weekly", "2025-01-31T09:30:00Z", "2025-02-02T00:00:00Z"),
        ("@monthly", "2025-12-15T00:00:00Z", "2026-01-01T00:00:00Z"),
        ("@yearly", "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ("@annually", "2025-06-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ("@every 15s", "2025-01-31T09:30:00Z", "2025-01-31T09:30:15Z"),
        ("@every 15s", "2025-01-31T09:30:07Z", "2025-01-31T09:30:15Z"),
        ("@every 5m", "2025-01-31T09:31:00Z", "2025-01-31T09:35:00Z"),
        ("@every 2h", "2025-01-31T09:31:00Z", "2025-01-31T10:00:00Z"),
    ])
    func shorthands(expression: String, start: String, expected: String) throws {
        #expect(try runs(expression, after: start) == [expected])
    }

    @Test("a bad expression names the field at fault", arguments: [
        ("61 * * * *", "minute"),
        ("*/0 * * * *", "minute"),
        ("* 24 * * *", "hour"),
        ("* * 0 * *", "day-of-month"),
        ("* * 1-32 * *", "day-of-month"),
        ("* * * 13 *", "month"),
        ("* * * FOO *", "month"),
        ("* * * * 8", "day-of-week"),
        ("* * * * FRI-MON", "day-of-week"),
        ("* * * * MON,", "day-of-week"),
        ("* * *", "expression"),
        ("* * * * * *", "expression"),
        ("@every 0s", "expression"),
        ("@every", "expression"),
        ("@fortnightly", "expression"),
        ("@daily 5", "expression"),
    ])
    func errors(expression: String, field: String) {
        do {
            _ = try CronSchedule(parsing: expression)
            Issue.record("'\(expression)' was accepted")
        } catch let error as CronSchedule.ParseError {
            #expect(error.field == field, "\(error)")
            #expect(error.description.hasPrefix(field + ": "))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("the out-of-range message quotes the value and the range")
    func message() {
        #expect(throws: CronSchedule.ParseError(field: "minute", message: "61 is out of range 0-59")) {
            try CronSchedule(parsing: "61 * * * *")
        }
    }
}
