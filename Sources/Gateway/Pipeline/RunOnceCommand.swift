import Foundation

/// `gateway run --once`: load the configuration, run one intake cycle, print one line per file and a summary.
public enum RunOnce {
    /// Runs one cycle with the configuration at `path`. Exit status: 0 when the run completed (rejections
    /// included), 1 when any file could not be handled, 2 when the configuration is unreadable or has mistakes.
    public static func run(path: String, json: Bool, dueOnly: Bool = false, out: OutputSink, err: OutputSink) -> Int32 {
        defer { out.flush(); err.flush() }
        guard let configuration = ConfigurationLoader.loadReporting(path: path, err: err, nothingWas: "run") else {
            return 2
        }
        let report: IntakeRunReport
        do {
            report = try GatewayPipeline(configuration: configuration).runOnce(dueOnly: dueOnly)
        } catch {
            err.line("cannot open the store: \(error)" + FileOps.spaceNote(configuration.stateDirectory))
            return 1
        }
        if json {
            out.write(render(report))
        } else {
            for f in report.files {
                var line = "\(f.partner) \(f.file): \(f.outcome.rawValue)"
                if let receipt = f.receipt { line += " — receipt \(receipt)" }
                if let routed = f.routed { line += " — routed \(routed.joined(separator: ", "))" }
                if let reason = f.reason { line += " (\(reason))" }
                (f.outcome == .failed ? err : out).line(line.oneLine)
            }
            for n in report.notices {
                out.line("\(n.partner) \(n.file): \(n.kind) \(n.reference) of manifest \(n.manifest): \(n.items.joined(separator: ", "))".oneLine)
            }
            out.line(summaryLine(report))
        }
        return report.hadFailures ? 1 : 0
    }

    /// "N files: a accepted, r rejected, ..." (outcomes with a zero count left out).
    static func summaryLine(_ report: IntakeRunReport) -> String {
        let counts = report.counts
        let parts = IntakeFileOutcome.allCases.compactMap { o in counts[o.rawValue].flatMap { $0 > 0 ? "\($0) \(o.rawValue)" : nil } }
        let n = report.files.count
        return "\(n) file\(n == 1 ? "" : "s")" + (parts.isEmpty ? "" : ": " + parts.joined(separator: ", "))
    }

    struct Document: Encodable {
        var files: [IntakeFileResult]
        var notices: [NoticeLine]
        var summary: [String: Int]
    }

    static func render(_ report: IntakeRunReport) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Document(files: report.files, notices: report.notices, summary: report.counts))) ?? Data("{}".utf8)
        return String(decoding: JSONText.prettyPrinted(data), as: UTF8.self) + "\n"
    }
}

extension String {
    /// The text on one line: control characters written visibly (`\n`, `\t`, `\u{1B}`). A partner's file name
    /// holding a line break could otherwise forge a line of its own in a run's report.
    var oneLine: String {
        guard unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return self }
        var out = ""
        for scalar in unicodeScalars {
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0..<0x20, 0x7F: out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
