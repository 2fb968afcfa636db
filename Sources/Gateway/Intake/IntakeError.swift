#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure of the intake steps (scan, claim, unpack) with a stable code operators and receipts can key on.
///
/// Codes are dotted and only ever added to (`intake.scan`, `claim.cross_device`, ...); the message names
/// the file and the errno text so an operator can act without reading the source.
public struct IntakeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable, dotted error code, e.g. `claim.cross_device`.
    public var code: String
    /// The file or directory concerned, as given.
    public var path: String
    /// The operator-facing explanation.
    public var message: String
    /// errno at the failing call, when a system call failed.
    public var errorNumber: Int32?

    /// Creates an error; `errorNumber` is the errno captured at the failing call, if any.
    public init(code: String, path: String, message: String, errorNumber: Int32? = nil) {
        self.code = code
        self.path = path
        self.message = message
        self.errorNumber = errorNumber
    }

    /// Builds an error from errno right after a failing system call, adding the OS's words for it.
    static func system(_ code: String, path: String, operation: String, errorNumber: Int32 = errno) -> IntakeError {
        IntakeError(code: code, path: path, message: "cannot \(operation): \(String(cString: strerror(errorNumber)))",
                    errorNumber: errorNumber)
    }

    /// "[code] path: message".
    public var description: String { "[\(code)] \(path): \(message)" }
}

/// A file time with nanosecond precision, kept exact so "unchanged across polls" compares what stat saw.
public struct FileTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Whole seconds since the Unix epoch.
    public var seconds: Int64
    /// Nanoseconds within the second (0..<1e9).
    public var nanoseconds: Int64

    /// Creates a time from seconds and nanoseconds since the Unix epoch.
    public init(seconds: Int64, nanoseconds: Int64 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// The current wall-clock time (CLOCK_REALTIME), the clock file mtimes use.
    public static func now() -> FileTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return FileTime(seconds: Int64(ts.tv_sec), nanoseconds: Int64(ts.tv_nsec))
    }

    /// Nanoseconds since the epoch, for unique names and arithmetic.
    public var epochNanoseconds: Int64 { seconds &* 1_000_000_000 &+ nanoseconds }

    /// Seconds elapsed from `earlier` to `self` (negative if `earlier` is later).
    public func seconds(since earlier: FileTime) -> Double {
        Double(seconds - earlier.seconds) + Double(nanoseconds - earlier.nanoseconds) / 1e9
    }

    /// Orders by seconds then nanoseconds.
    public static func < (a: FileTime, b: FileTime) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    /// "seconds.nanoseconds".
    public var description: String {
        let ns = String(nanoseconds)
        return "\(seconds).\(String(repeating: "0", count: max(0, 9 - ns.count)))\(ns)"
    }

    init(_ ts: timespec) {
        self.init(seconds: Int64(ts.tv_sec), nanoseconds: Int64(ts.tv_nsec))
    }
}
