import Foundation
import GRDB
import Jobs

/// The text a `Date` is stored as: GRDB's "yyyy-MM-dd HH:mm:ss.SSS" in UTC, byte for byte.
///
/// Written by hand because GRDB writes it through a shared Foundation `DateFormatter` (ICU behind a lock), and
/// a routed run binds about fifty thousand dates (every job's times and history): that was 1.7 % of its CPU
/// time, behind a lock shared by the threads that file, commit and deliver. Stored dates are compared as
/// text (`next_run_at <= ?`), so this must write exactly what GRDB writes, milliseconds rounded as ICU rounds
/// them: `StoreTests` checks both against each other on a million dates. Dates outside the years 1600 to 9999
/// are left to GRDB (before 1582, ICU's Gregorian calendar is the Julian one).
enum StoreDate {
    /// Milliseconds since the Unix epoch at 1600-01-01 and at 10000-01-01 (exclusive).
    private static let earliest = -11_676_096_000_000.0
    private static let latest = 253_402_300_800_000.0

    static func text(_ date: Date) -> String? {
        // What ICU is given by Foundation, milliseconds since 1970 as a Double, rounded half up.
        let milliseconds = ((date.timeIntervalSinceReferenceDate + Date.timeIntervalBetween1970AndReferenceDate) * 1000 + 0.5).rounded(.down)
        guard milliseconds >= earliest, milliseconds < latest else { return nil }
        let total = Int64(milliseconds)
        let days = Int(total >= 0 ? total / 86_400_000 : (total - 86_399_999) / 86_400_000)
        let inDay = Int(total - Int64(days) * 86_400_000)
        let (year, month, day) = CivilDate.civilFromDays(days)
        return String(unsafeUninitializedCapacity: 23) { buffer in
            func put(_ value: Int, digits: Int, at index: Int) {
                var v = value
                for i in stride(from: index + digits - 1, through: index, by: -1) {
                    buffer[i] = UInt8(truncatingIfNeeded: 48 + v % 10)
                    v /= 10
                }
            }
            put(year, digits: 4, at: 0)
            buffer[4] = UInt8(ascii: "-")
            put(month, digits: 2, at: 5)
            buffer[7] = UInt8(ascii: "-")
            put(day, digits: 2, at: 8)
            buffer[10] = UInt8(ascii: " ")
            put(inDay / 3_600_000, digits: 2, at: 11)
            buffer[13] = UInt8(ascii: ":")
            put(inDay / 60_000 % 60, digits: 2, at: 14)
            buffer[16] = UInt8(ascii: ":")
            put(inDay / 1000 % 60, digits: 2, at: 17)
            buffer[19] = UInt8(ascii: ".")
            put(inDay % 1000, digits: 3, at: 20)
            return 23
        }
    }

    /// `value` as the store binds it: a date through `text`, anything else as GRDB converts it.
    static func databaseValue(_ value: (any DatabaseValueConvertible)?) -> DatabaseValue {
        guard let value else { return .null }
        if let date = value as? Date, let text = text(date) { return text.databaseValue }
        return value.databaseValue
    }
}
