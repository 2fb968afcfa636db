import EDIFACT

/// A finding with the envelope it was found in, so output can name the interchange, group and message.
public struct LocatedFinding: Sendable, Hashable {
    /// The finding itself.
    public var diagnostic: Diagnostic
    /// UNB 0020 of the interchange it belongs to.
    public var interchange: String
    /// UNG 0048 of its functional group, when it is in one.
    public var group: String?
    /// UNH 0062 of its message, when it is in one.
    public var message: String?

    /// Every finding of an interchange, in input order (byte offset, then code).
    public static func all(in report: InterchangeReport) -> [LocatedFinding] {
        var out = report.diagnostics.map { LocatedFinding(diagnostic: $0, interchange: report.reference) }
        func add(_ m: MessageReport, group: String?) {
            out += m.diagnostics.map { LocatedFinding(diagnostic: $0, interchange: report.reference, group: group, message: m.reference) }
        }
        for g in report.groups {
            out += g.diagnostics.map { LocatedFinding(diagnostic: $0, interchange: report.reference, group: g.reference) }
            for m in g.messages { add(m, group: g.reference) }
        }
        for m in report.messages { add(m, group: nil) }
        // Stable sort: findings at one offset keep the order the validator reported them in.
        return out.enumerated().sorted {
            let a = $0.element.diagnostic, b = $1.element.diagnostic
            return (a.location.byteOffset, a.code.rawValue, $0.offset) < (b.location.byteOffset, b.code.rawValue, $1.offset)
        }.map(\.element)
    }
}

/// The one-line text forms of findings and per-file verdicts that `gateway edifact` prints.
public enum FindingText {
    /// `FILE: segment N (TAG) element E:C byte B: code CC (Code name): reason`; the element part only when known.
    public static func line(file: String, _ d: Diagnostic) -> String {
        let l = d.location
        var s = "\(file): segment \(l.segmentNumber)"
        if !l.segmentTag.isEmpty { s += " (\(l.segmentTag))" }
        if l.elementPosition > 0 {
            s += " element \(l.elementPosition)"
            if l.componentPosition > 0 { s += ":\(l.componentPosition)" }
            if l.repetition > 1 { s += " occurrence \(l.repetition)" }
        }
        s += " byte \(l.byteOffset): code \(d.code.rawValue) (\(d.code.name)): \(d.reason)"
        return s
    }

    /// "1 message", "2 messages".
    static func count(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(n) \(n == 1 ? singular : plural ?? singular + "s")"
    }
}

/// Running counts over the interchanges of one file, for its summary line; holds no report.
public struct FileTally: Sendable {
    /// Interchanges seen.
    public var interchanges = 0
    /// Interchanges with at least one finding.
    public var rejectedInterchanges = 0
    /// Functional groups seen.
    public var groups = 0
    /// Messages seen (grouped or not).
    public var messages = 0
    /// Messages with at least one finding.
    public var rejectedMessages = 0
    /// Findings at every level.
    public var findings = 0
    /// Distinct message types, in order of first appearance.
    public var messageTypes: [String] = []
    /// Segments read (UNA is not a segment).
    public var segments = 0
    /// Bytes read.
    public var bytes = 0

    /// An empty tally.
    public init() {}

    /// Counts one completed interchange.
    public mutating func add(_ report: InterchangeReport, findings: Int) {
        interchanges += 1
        if findings > 0 { rejectedInterchanges += 1 }
        self.findings += findings
        groups += report.groups.count
        let kept = report.allMessages
        messages += max(report.messageCount, kept.count)
        rejectedMessages += kept.filter { !$0.isAccepted }.count
        for type in report.messageTypes.isEmpty ? kept.map(\.type) : report.messageTypes where !messageTypes.contains(type) {
            messageTypes.append(type)
        }
    }

    /// True when the file held at least one interchange and nothing was found wrong.
    public var isValid: Bool { interchanges > 0 && findings == 0 }

    /// `FILE: valid: 1 interchange, 1 message (CUSCAR), 37 segments` or `FILE: INVALID: 2 findings in 1 interchange, ...`.
    public func summary(file: String) -> String {
        guard interchanges > 0 else {
            return "\(file): INVALID: no interchange found" + (bytes == 0 ? " (the file is empty)" : "")
        }
        var parts: [String] = []
        var messagePart = FindingText.count(messages, "message")
        if !messageTypes.isEmpty {
            messagePart += " (\(messageTypes.joined(separator: ", ")))"
        }
        if isValid {
            parts.append(FindingText.count(interchanges, "interchange"))
        } else {
            let where_ = rejectedInterchanges == interchanges
                ? FindingText.count(interchanges, "interchange")
                : "\(rejectedInterchanges) of \(FindingText.count(interchanges, "interchange"))"
            parts.append("\(FindingText.count(findings, "finding")) in \(where_)")
        }
        if groups > 0 { parts.append(FindingText.count(groups, "group")) }
        if !isValid && rejectedMessages > 0 {
            messagePart = "\(rejectedMessages) of \(messagePart) rejected"
        }
        parts.append(messagePart)
        parts.append(FindingText.count(segments, "segment"))
        return "\(file): \(isValid ? "valid" : "INVALID"): " + parts.joined(separator: ", ")
    }
}
