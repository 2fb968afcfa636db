import EDIFACT
import Foundation

/// Builds the CONTRL receipts the gateway would send for a file; the engine behind `gateway edifact contrl`.
public enum EDIFACTContrlCommand {
    /// The identity the gateway answers as unless told otherwise (UNB S002: id, qualifier).
    public static let defaultSender = ["SWGATEWAY", "ZZZ"]

    /// Parses `ID[:QUALIFIER]` into S002 components, or nil with the reason it is not one.
    public static func parseIdentity(_ text: String) -> Result<[String], ArgumentProblem> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else {
            return .failure(ArgumentProblem("'\(text)' has more than one ':'; expected ID or ID:QUALIFIER, e.g. SWGATEWAY:ZZZ"))
        }
        guard let id = parts.first, !id.isEmpty else {
            return .failure(ArgumentProblem("the sender identification before ':' is empty; expected ID or ID:QUALIFIER"))
        }
        guard id.count <= 35 else {
            return .failure(ArgumentProblem("the sender identification '\(id)' is \(id.count) characters long; at most 35 are allowed"))
        }
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 4 else {
                return .failure(ArgumentProblem("the qualifier '\(parts[1])' must be 1 to 4 characters, e.g. ZZZ"))
            }
        }
        return .success(parts)
    }

    /// Parses `YYYYMMDDHHMM` into a date and time, or nil with the reason it is not one.
    public static func parseDateTime(_ text: String) -> Result<EDIFACTDateTime, ArgumentProblem> {
        let digits = Array(text.utf8)
        guard digits.count == 12, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            return .failure(ArgumentProblem("'\(text)' is not a date and time as YYYYMMDDHHMM (12 digits, e.g. 202501310931)"))
        }
        func number(_ range: Range<Int>) -> Int { digits[range].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) } }
        let date = EDIFACTDateTime(year: number(0..<4), month: number(4..<6), day: number(6..<8), hour: number(8..<10),
                                   minute: number(10..<12))
        guard date.isValid else {
            return .failure(ArgumentProblem("'\(text)' is not a real date and time (\(date)); expected YYYYMMDDHHMM"))
        }
        return .success(date)
    }

    /// The current date and time in the machine's time zone, as receipts are stamped.
    public static func now() -> EDIFACTDateTime {
        let c = Calendar.current.dateComponents([.year, .month, .day, .hour, .minute], from: Date())
        return EDIFACTDateTime(year: c.year ?? 2000, month: c.month ?? 1, day: c.day ?? 1, hour: c.hour ?? 0, minute: c.minute ?? 0)
    }

    /// Our interchange reference for the CONTRL answering the interchange `subject`: "C" + its reference,
    /// cut to the 14 characters UNB 0020 allows. Deterministic, so a rerun sends the same reference.
    public static func derivedReference(forSubject subject: String) -> String {
        String(("C" + subject).prefix(14))
    }

    /// The reference for the `index`-th (from 0) CONTRL of a file when the operator fixed one: the first
    /// gets it unchanged, later ones get their number appended (still at most 14 characters).
    public static func numberedReference(_ reference: String, index: Int) -> String {
        guard index > 0 else { return reference }
        let suffix = String(index + 1)
        return String(reference.prefix(max(0, 14 - suffix.count))) + suffix
    }

    /// Runs `gateway edifact contrl`: one CONTRL interchange per interchange of `file` on `out`, notes on `err`.
    /// A CONTRL subject gets no CONTRL (a note says so) and is still a success.
    public static func run(
        file: String, sender: [String], reference: String?, at date: EDIFACTDateTime, newline: Bool,
        options: ValidationOptions, out: OutputSink, err: OutputSink
    ) -> CommandStatus {
        var status = CommandStatus.success
        var index = 0
        let contrlOptions = ContrlOptions(segmentSuffix: newline ? "\n" : "")
        do throws(InputFileError) {
            try EDIFACTFileValidation.validate(path: file, options: options) { subject in
                defer { index += 1 }
                let ref = reference.map { numberedReference($0, index: index) } ?? derivedReference(forSubject: subject.reference)
                let name = subject.reference.isEmpty ? "at byte \(subject.byteOffset)" : "'\(subject.reference)'"
                do throws(WriterError) {
                    if let bytes = try ContrlBuilder.makeContrl(for: subject, ourIdentity: sender, reference: ref, at: date, options: contrlOptions) {
                        out.write(bytes: bytes)
                    } else {
                        out.flush()
                        err.line("\(file): interchange \(name) is a CONTRL: no CONTRL is sent in reply to a CONTRL")
                    }
                } catch {
                    out.flush()
                    err.line("\(file): interchange \(name): no CONTRL can be written: \(error.message)")
                    status = max(status, .invalid)
                }
            }
        } catch {
            out.flush()
            err.line(error.description)
            return .failure
        }
        out.flush()
        if index == 0 {
            err.line("\(file): no interchange found: nothing to acknowledge")
            status = max(status, .invalid)
        }
        return status
    }
}

/// Why a command-line value was refused, in words an operator can act on.
public struct ArgumentProblem: Error, Sendable, Hashable, CustomStringConvertible {
    /// The explanation.
    public var message: String
    /// A problem with the given explanation.
    public init(_ message: String) { self.message = message }
    /// The explanation.
    public var description: String { message }
}
