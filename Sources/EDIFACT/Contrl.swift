// CONTRL (ISO 9735-4 syntax and service report) built from a validator's InterchangeReport.
// Rules: research notes §2.5; layouts §2.1-2.2. Only action codes 4, 7 and 8 are generated.

/// How a CONTRL is shaped beyond what ISO 9735 fixes: partner conventions and receipt policy.
public struct ContrlOptions: Sendable, Hashable {
    /// Add `UCM…+7` (and `UCF…+7`) for clean messages and groups, for partners that want every message listed.
    public var reportAcceptedMessages: Bool
    /// Answer with `UCI…+8` only: received, verdict to follow.
    public var receiptOnly: Bool
    /// Delimiters of the reply; nil mirrors the subject's when usable, else the Level A defaults.
    public var delimiters: Delimiters?
    /// Whether to write UNA; nil writes it when the subject had one or the delimiters are not the defaults.
    public var serviceStringAdvice: Bool?
    /// Text after each segment terminator, e.g. "\n"; empty by default.
    public var segmentSuffix: String

    /// Creates options; the defaults give the plain ISO 9735 receipt.
    public init(reportAcceptedMessages: Bool = false, receiptOnly: Bool = false, delimiters: Delimiters? = nil,
                serviceStringAdvice: Bool? = nil, segmentSuffix: String = "") {
        self.reportAcceptedMessages = reportAcceptedMessages
        self.receiptOnly = receiptOnly
        self.delimiters = delimiters
        self.serviceStringAdvice = serviceStringAdvice
        self.segmentSuffix = segmentSuffix
    }
}

/// Builds the CONTRL that answers one received interchange, from what validation found in it.
public struct ContrlBuilder: Sendable {
    /// The CONTRL interchange answering `subject`, or nil when none may or can be sent.
    ///
    /// nil when the subject is itself a CONTRL interchange (never a CONTRL in reply to a CONTRL), or
    /// when the reply cannot be written (e.g. our identity or reference is invalid); `makeContrl` says why.
    public static func contrl(
        for subject: InterchangeReport, ourIdentity: [String], reference: String, messageReference: String = "1",
        at date: EDIFACTDateTime, options: ContrlOptions = .init()
    ) -> [UInt8]? {
        try? makeContrl(for: subject, ourIdentity: ourIdentity, reference: reference, messageReference: messageReference,
                        at: date, options: options)
    }

    /// Like `contrl`, but throws when the reply cannot be written, so the caller can log the reason.
    public static func makeContrl(
        for subject: InterchangeReport, ourIdentity: [String], reference: String, messageReference: String = "1",
        at date: EDIFACTDateTime, options: ContrlOptions = .init()
    ) throws(WriterError) -> [UInt8]? {
        if subject.isControlInterchange { return nil }
        let plan = Reply.plan(for: subject, delimiters: options.delimiters)
        return try Reply.write(plan: plan) { (syntax: Reply.Attempt) throws(WriterError) -> [UInt8] in
            var w = Reply.writer(for: subject, plan: plan, syntax: syntax, serviceStringAdvice: options.serviceStringAdvice,
                                 segmentSuffix: options.segmentSuffix)
            try w.beginInterchange(sender: ourIdentity, recipient: subject.sender, at: date, reference: reference,
                                   testIndicator: subject.testIndicator == "1")
            try w.beginMessage(reference: messageReference,
                               identifier: plan.version >= 4 ? ["CONTRL", "4", "1", "UN"] : ["CONTRL", "D", "3", "UN"])
            for (tag, elements) in body(for: subject, version: plan.version, options: options) {
                try w.segment(tag, elements)
            }
            try w.endMessage()
            try w.endInterchange()
            return w.bytes
        }
    }

    /// The segments between UNH and UNT, in CONTRL order: UCI, SG1 (UCM-UCS-UCD), SG3 (UCF-UCM-UCS-UCD).
    static func body(for subject: InterchangeReport, version: Int, options: ContrlOptions) -> [(String, [[String]])] {
        let party = version >= 4 ? [35, 4, 35, 35] : [35, 4, 14]
        let head = [fit([subject.reference], [14]), fit(subject.sender, party), fit(subject.recipient, party)]
        if options.receiptOnly { return [("UCI", head + [["8"]])] }

        var out: [(String, [[String]])] = []
        let uciAction: String
        if let first = subject.diagnostics.first {
            uciAction = "4"
            out.append(("UCI", head + [["4"]] + report(first, version: version)))
        } else {
            uciAction = "7"
            out.append(("UCI", head + [["7"]]))
        }
        let listAccepted = options.reportAcceptedMessages && uciAction == "7"

        // SG1: messages outside groups. With groups this is empty, unless groups and messages were mixed
        // (already rejected in UCI with code 30); their findings are still worth reporting.
        for m in subject.messages where !m.isAccepted || listAccepted {
            out += messageResponse(m, version: version)
        }
        // SG3: one UCF per group with findings (its own, or its messages').
        for g in subject.groups where !g.isAccepted || listAccepted {
            let ucfHead = [fit([g.reference], [14]), fit(g.sender, [35, 4]), fit(g.recipient, [35, 4])]
            if let first = g.diagnostics.first {
                out.append(("UCF", ucfHead + [["4"]] + report(first, version: version)))
            } else {
                out.append(("UCF", ucfHead + [["7"]]))
            }
            let listAcceptedInGroup = listAccepted && g.diagnostics.isEmpty
            for m in g.messages where !m.isAccepted || listAcceptedInGroup {
                out += messageResponse(m, version: version)
            }
        }
        return out
    }

    /// Copied subject values cut to the maximum length of the CONTRL element that carries them (and
    /// extra components dropped): an over-long reference is the subject's error, reported as such;
    /// the receipt itself must stay valid or a strict partner would reject it unread.
    static func fit(_ components: [String], _ maxLengths: [Int]) -> [String] {
        zip(components, maxLengths).map { value, max in value.count > max ? String(value.prefix(max)) : value }
    }

    /// 0085, 0013/0135 and S011 for a finding reported on UCI, UCF or UCM.
    ///
    /// 0013 is a *service* segment tag (code list 0013/0135): a finding about a data segment keeps its
    /// code but gets no tag and no position, since those would not be valid there.
    static func report(_ d: Diagnostic, version: Int) -> [[String]] {
        let tag = d.location.segmentTag
        guard isServiceSegmentTag(tag) else { return [[String(d.code.rawValue)]] }
        return [[String(d.code.rawValue)], [tag], position(d.location, version: version)]
    }

    /// UCM (with UCS/UCD) for one message: action 4 with its findings, or 7 when it has none.
    static func messageResponse(_ m: MessageReport, version: Int) -> [(String, [[String]])] {
        let head = [fit([m.reference], [14]), fit(m.identifier, [6, 3, 3, version >= 4 ? 3 : 2, 6])]
        guard !m.isAccepted else { return [("UCM", head + [["7"]])] }

        // The first message-level finding (UNH/UNT: counts, references) goes on UCM itself; everything else
        // is reported against its segment position as UCS (segment findings) and UCD (element findings).
        let isMessageLevel: (Diagnostic) -> Bool = { $0.level != .segment && $0.level != .element }
        let onUCM = m.diagnostics.first(where: isMessageLevel)
        var details: [Diagnostic] = []
        var skippedUCM = false
        for d in m.diagnostics {
            if !skippedUCM, let onUCM, d == onUCM {
                skippedUCM = true
                continue
            }
            if d.location.segmentPositionInMessage > 0 { details.append(d) }
        }
        let segments = segmentErrors(details, version: version)

        var ucm = head + [["4"]]
        if let onUCM {
            ucm += report(onUCM, version: version)
        } else if segments.isEmpty, let first = m.diagnostics.first {
            // Nothing can be placed by position: say at least what kind of error it was.
            ucm += [[String(first.code.rawValue)]]
        }
        return [("UCM", ucm)] + segments
    }

    /// UCS/UCD entries by segment position (ascending), at most 999 UCS per message and 99 UCD per UCS.
    static func segmentErrors(_ details: [Diagnostic], version: Int) -> [(String, [[String]])] {
        struct Entry {
            var segmentCodes: [Int] = []
            var elements: [[[String]]] = []
        }
        struct Key: Hashable {
            var code: Int, position: Int, element: Int, component: Int, repetition: Int
        }
        var byPosition: [Int: Entry] = [:]
        var seen = Set<Key>()
        for d in details {
            let l = d.location
            let asElement = d.level != .segment && l.elementPosition > 0
            let key = Key(code: d.code.rawValue, position: l.segmentPositionInMessage, element: asElement ? l.elementPosition : 0,
                          component: asElement ? l.componentPosition : 0, repetition: asElement ? l.repetition : 0)
            guard seen.insert(key).inserted else { continue }
            if asElement {
                byPosition[l.segmentPositionInMessage, default: Entry()].elements.append(
                    [[String(d.code.rawValue)], position(l, version: version)])
            } else {
                byPosition[l.segmentPositionInMessage, default: Entry()].segmentCodes.append(d.code.rawValue)
            }
        }
        var out: [(String, [[String]])] = []
        var ucsCount = 0
        for p in byPosition.keys.sorted() {
            let entry = byPosition[p]!
            var first = [[String(p)]]
            if let code = entry.segmentCodes.first { first.append([String(code)]) }
            guard ucsCount < 999 else { break }
            out.append(("UCS", first))
            ucsCount += 1
            for ucd in entry.elements.prefix(99) { out.append(("UCD", ucd)) }
            for code in entry.segmentCodes.dropFirst() {
                guard ucsCount < 999 else { break }
                out.append(("UCS", [[String(p)], [String(code)]]))
                ucsCount += 1
            }
        }
        return out
    }

    /// S011: 0098 element position, 0104 component position, and (syntax version 4 only) 0136 occurrence.
    static func position(_ l: Location, version: Int) -> [String] {
        guard l.elementPosition > 0 else { return [] }
        return [
            String(l.elementPosition),
            l.componentPosition > 0 ? String(l.componentPosition) : "",
            version >= 4 && l.repetition > 0 ? String(l.repetition) : "",
        ]
    }

    /// Service segment tags all begin with U (UNA, UNB, UNG, UNH, UNT, UNE, UNZ; v4 also UNO, UNP, UIB, USH...).
    static func isServiceSegmentTag(_ tag: String) -> Bool {
        let b = Array(tag.utf8)
        return b.count == 3 && b[0] == UInt8(ascii: "U") && b.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }
}

/// What a reply (CONTRL or APERAK) shares: envelope addressed back to the sender, in the sender's syntax.
enum Reply {
    struct Plan {
        /// The subject's repertoire, or UNOA when it could not be read.
        var syntax: SyntaxIdentifier
        /// The subject's syntax version, or 3 when it could not be read.
        var version: Int
        var delimiters: Delimiters
        /// A wider repertoire to retry with when a copied value does not fit the subject's (UNOA/UNOB → UNOC).
        var fallback: SyntaxIdentifier?
    }

    /// Same syntax identifier and version as the subject (UNOA:3 when unreadable), and its delimiters when usable.
    static func plan(for subject: InterchangeReport, delimiters: Delimiters?) -> Plan {
        let syntax: SyntaxIdentifier
        let version: Int
        if let s = subject.syntax {
            syntax = s
            version = (1...4).contains(subject.syntaxVersion) ? subject.syntaxVersion : 3
        } else {
            syntax = .UNOA
            version = 3
        }
        var d = delimiters ?? subject.delimiters
        if version < 4 { d.repetition = nil }
        if delimiters == nil && !d.isWritable { d = .levelA(syntaxVersion: version) }
        let fallback: SyntaxIdentifier? = (syntax == .UNOA || syntax == .UNOB) ? .UNOC : nil
        return Plan(syntax: syntax, version: version, delimiters: d, fallback: fallback)
    }

    /// A writer for the plan, writing UNA when asked, when the subject had one, or when the delimiters need it.
    static func writer(for subject: InterchangeReport, plan: Plan, syntax: Attempt, serviceStringAdvice: Bool?,
                       segmentSuffix: String) -> EDIFACTWriter {
        let isDefault = plan.delimiters == .levelA(syntaxVersion: plan.version)
            || (syntax.repertoire == .UNOB && plan.delimiters == .levelB)
        var writer = EDIFACTWriter(syntaxIdentifier: syntax.repertoire, syntaxVersion: plan.version, delimiters: plan.delimiters,
                                   serviceStringAdvice: serviceStringAdvice ?? (subject.hadServiceStringAdvice || !isDefault),
                                   segmentSuffix: segmentSuffix)
        writer.substitute = syntax.substitute
        return writer
    }

    /// One way of writing a reply: the repertoire, and whether what it cannot hold is written as `?`.
    struct Attempt {
        var repertoire: SyntaxIdentifier
        var substitute: UInt8?
    }

    /// Writes with the subject's repertoire; when a value does not fit, once more with the fallback one,
    /// because a receipt in a wider repertoire is better than none (lower case in a UNOA sender id is common).
    /// When even that cannot hold a value (a NUL in the reference, a file name in another script), a last time
    /// with `?` for each character it cannot hold: every file is answered.
    static func write(plan: Plan, _ build: (Attempt) throws(WriterError) -> [UInt8]) throws(WriterError) -> [UInt8] {
        do throws(WriterError) {
            return try build(Attempt(repertoire: plan.syntax))
        } catch where error.code == .notRepresentable {
            if let fallback = plan.fallback, let bytes = try? build(Attempt(repertoire: fallback)) { return bytes }
            return try build(Attempt(repertoire: plan.fallback ?? plan.syntax, substitute: UInt8(ascii: "?")))
        }
    }
}
