/// Settings of the reader and validator. The defaults are strict ISO 9735 with the tolerances real traffic needs.
public struct ValidationOptions: Sendable, Hashable {
    /// A segment longer than this (bytes, at most 60 000) stops the scan: a missing terminator or not EDIFACT.
    public var maxSegmentLength = 60_000
    /// Check message bodies against the directory tables (segment order, repetitions, element formats).
    public var validateMessageStructure = true
    /// Accept version 4 syntax identifiers (UNOG..UNOY, e.g. UNOY for Chinese party names) in syntax version 3
    /// interchanges, as partners do, instead of reporting code 2.
    public var acceptVersion4IdentifiersInVersion3 = true
    /// At most this many findings are kept per interchange, so hostile input cannot grow memory without bound.
    public var maxDiagnosticsPerInterchange = 1_000
    /// Report a release character before a character that is not a service character (`?,`) as code 22.
    /// Off by default: it is common in real traffic and the character is taken literally.
    public var strictReleaseCharacter = false
    /// Keep a `MessageReport` for clean messages too (false keeps only rejected ones).
    public var keepAcceptedMessages = true
    /// At most this many clean messages are kept per interchange; the rest are only counted, so a batch
    /// of a million messages still validates in flat memory.
    public var maxAcceptedMessagesKept = 10_000

    public init() {}
}

/// Streaming ISO 9735 validator: feed bytes in chunks, take one report per interchange.
///
/// Memory stays flat: only the segment being read and the reports' findings are held.
public final class EDIFACTValidator {
    let scanner: SegmentScanner
    let state: EnvelopeState

    public init(options: ValidationOptions = .init()) {
        scanner = SegmentScanner(maxSegmentLength: options.maxSegmentLength, strictRelease: options.strictReleaseCharacter)
        state = EnvelopeState(options: options, scanner: scanner)
    }

    /// Segments read so far.
    public var segmentCount: Int { scanner.segmentNumber }

    /// Feeds the next chunk of the input and validates every segment it completes.
    public func feed(_ chunk: UnsafeRawBufferPointer) {
        scanner.feed(chunk)
        run()
    }

    /// Feeds the next chunk of the input.
    public func feed<C: Collection>(_ chunk: C) where C.Element == UInt8 {
        if let done: Void = chunk.withContiguousStorageIfAvailable({ feed(UnsafeRawBufferPointer($0)) }) { return done }
        Array(chunk).withUnsafeBytes { feed($0) }
    }

    /// Marks the end of input: open segments and envelopes are reported as truncated.
    public func finish() {
        scanner.finish()
        run()
        state.endOfInput()
    }

    /// The reports of the interchanges completed so far (each returned once).
    public func takeReports() -> [InterchangeReport] {
        defer { state.completed.removeAll() }
        return state.completed
    }

    /// Validates a whole input held in memory.
    public static func validate<C: Collection>(_ bytes: C, options: ValidationOptions = .init()) -> [InterchangeReport] where C.Element == UInt8 {
        let v = EDIFACTValidator(options: options)
        v.feed(bytes)
        v.finish()
        return v.takeReports()
    }

    private func run() {
        while true {
            switch scanner.next() {
            case .segment(let view): state.accept(view)
            case .needInput, .end: return
            case .fatal(let offset, let code, let reason, _):
                state.fatal(offset: offset, code: code, reason: reason)
                return
            }
        }
    }
}

/// A mutable home for the open message's structure validator (see `EnvelopeState.structureSlot`).
final class StructureSlot {
    @exclusivity(unchecked) var validator: MessageStructureValidator?
}

/// The envelope state machine: UNB/UNZ, UNG/UNE, UNH/UNT, counts and references, and routing of
/// every finding to the interchange, group or message it concerns.
final class EnvelopeState {
    let options: ValidationOptions
    let scanner: SegmentScanner

    @exclusivity(unchecked) var current: InterchangeReport?
    /// Mirrors `inInterchange` without copying the report.
    @exclusivity(unchecked) var inInterchange = false
    @exclusivity(unchecked) var group: GroupReport?
    /// Mirrors `inGroup` without copying the report.
    @exclusivity(unchecked) var inGroup = false
    @exclusivity(unchecked) var message: MessageReport?
    /// Mirrors `inMessage` without copying the optional report on every segment.
    @exclusivity(unchecked) var inMessage = false
    /// The open message's structure validator. Held in a class slot so it is mutated in place: through an
    /// optional stored property Swift copied the (large) validator out and back for every segment.
    @exclusivity(unchecked) var structureSlot = StructureSlot()
    var structure: MessageStructureValidator? {
        get { structureSlot.validator }
        set { structureSlot.validator = newValue; hasStructure = newValue != nil }
    }
    @exclusivity(unchecked) var hasStructure = false
    @exclusivity(unchecked) var messageSegments = 0
    /// UNB's syntax version, kept apart from `current` so the per-segment path never copies the report.
    @exclusivity(unchecked) var currentSyntaxVersion = 0
    var groupMessageCount = 0
    var interchangeMessageCount = 0
    var groupCount = 0
    var bareMessageCount = 0
    var mixedReported = false
    var messageRefs = Set<String>()
    var groupRefs = Set<String>()
    var diagnosticCount = 0
    @exclusivity(unchecked) var scratch: [Diagnostic] = []
    /// Completed interchange reports not yet taken.
    var completed: [InterchangeReport] = []
    /// When set, every diagnostic is also appended here (the event reader emits them).
    @exclusivity(unchecked) var emitted: [Diagnostic]?

    init(options: ValidationOptions, scanner: SegmentScanner) {
        self.options = options
        self.scanner = scanner
    }

    var syntaxVersion: Int { currentSyntaxVersion }

    // MARK: Reporting

    func report(_ d: Diagnostic) {
        if emitted != nil { emitted!.append(d) }
        guard diagnosticCount < options.maxDiagnosticsPerInterchange else { return }
        diagnosticCount += 1
        if d.level != .interchange && d.level != .group && inMessage {
            message!.diagnostics.append(d)
        } else if d.level != .interchange && inGroup {
            group!.diagnostics.append(d)
        } else {
            if !inInterchange { openPlaceholderInterchange(at: d.location) }
            current!.diagnostics.append(d)
        }
    }

    /// Records a finding located at a value of a segment.
    func report(_ code: SyntaxErrorCode, _ level: DiagnosticLevel, _ seg: SegmentView, element: Int = 0, component: Int = 0, _ reason: String) {
        var loc = location(seg)
        loc.elementPosition = element
        loc.componentPosition = component
        if element > 0, let t = seg.token(element: element - 1, component: max(component - 1, 0)) { loc.byteOffset = seg.byteOffset + Int(t.start) }
        report(Diagnostic(code: code, level: level, location: loc, reason: reason))
    }

    func location(_ seg: SegmentView) -> Location {
        Location(byteOffset: seg.byteOffset, segmentNumber: seg.number, segmentPositionInMessage: inMessage ? messageSegments : 0,
                 segmentTag: seg.tag.description)
    }

    /// Input that cannot be read at all still gets a report (and so a receipt).
    private func openPlaceholderInterchange(at loc: Location) {
        current = InterchangeReport(byteOffset: loc.byteOffset, segmentNumber: loc.segmentNumber)
        inInterchange = true
        resetInterchangeCounters()
    }

    private func resetInterchangeCounters() {
        group = nil; message = nil; structure = nil
        inGroup = false; inMessage = false
        groupMessageCount = 0; interchangeMessageCount = 0; groupCount = 0; bareMessageCount = 0; acceptedKept = 0
        mixedReported = false
        messageRefs.removeAll(); groupRefs.removeAll()
        diagnosticCount = 0
    }

    // MARK: Segments

    func accept(_ seg: SegmentView) {
        let tag = seg.tag.rawValue
        // Service segments all start with "UN": one compare keeps body segments on the fast path.
        if tag & 0xFFFF00 == 0x554E00 {
            // A trailer's character findings belong to the envelope it closes: report them before closing it.
            // A header's belong to the envelope it opens: after.
            switch seg.tag {
            case .UNB: unb(seg)
            case .UNZ: if scanner.hasIssues { lexical(seg) }; unz(seg); return
            case .UNG: ung(seg)
            case .UNE: if scanner.hasIssues { lexical(seg) }; une(seg); return
            case .UNH: unh(seg)
            case .UNT: if scanner.hasIssues { lexical(seg) }; unt(seg); return
            default: body(seg)
            }
        } else {
            body(seg)
        }
        if scanner.hasIssues { lexical(seg) }
    }

    private func body(_ seg: SegmentView) {
        if inMessage {
            messageSegments += 1
            if hasStructure {
                structureSlot.validator!.accept(seg, position: messageSegments, into: &scratch)
                if !scratch.isEmpty { flushScratch() }
            }
            if currentSyntaxVersion >= 4 && seg.tokens.count > 1 && seg.tokens[seg.tokens.count - 1].isEmpty {
                trailingSeparator(seg, level: .element)
            }
            lastSegment = (messageSegments, seg.number, seg.byteOffset, seg.tag)
            return
        }
        if !inInterchange { return }
        let tagText = seg.tag.description.isEmpty ? "with an unreadable tag" : seg.tag.description
        report(.invalidOccurrenceOutside, inGroup ? .group : .interchange, seg,
               "segment \(tagText) is outside any message (UNH..UNT)")
    }

    @exclusivity(unchecked) var lastSegment: (position: Int, number: Int, offset: Int, tag: SegmentTag) = (0, 0, 0, SegmentTag(rawValue: 0))

    private func flushScratch() {
        for d in scratch { report(d) }
        scratch.removeAll(keepingCapacity: true)
    }

    private func trailingSeparator(_ seg: SegmentView, level: DiagnosticLevel) {
        let last = seg.tokens[seg.tokens.count - 1]
        report(.trailingSeparator, level, seg, element: Int(last.element) + 1, component: Int(last.component) + 1,
               "\(seg.tag) ends with a separator: empty trailing elements must be left out")
    }

    private func serviceElements(_ seg: SegmentView, level: DiagnosticLevel, position: Int) {
        ServiceSegmentValidator.validateElements(seg, syntaxVersion: syntaxVersion, positionInMessage: position, into: &scratch)
        for var d in scratch {
            d.level = level
            report(d)
        }
        scratch.removeAll(keepingCapacity: true)
    }

    private func components(_ seg: SegmentView, element: Int) -> [String] {
        var out: [String] = []
        out.reserveCapacity(6)
        for t in seg.tokens where Int(t.element) == element && t.repetition == 0 {
            out.append(seg.text(t))
        }
        while let l = out.last, l.isEmpty { out.removeLast() }
        return out
    }

    private func unb(_ seg: SegmentView) {
        if inInterchange { closeInterchange(missingTrailerAt: seg) }
        var r = InterchangeReport()
        r.syntaxIdentifier = seg.value(element: 1) ?? ""
        let versionText = seg.value(element: 1, component: 1) ?? ""
        r.syntaxVersion = Int(versionText).flatMap { (1...4).contains($0) ? $0 : nil } ?? 0
        r.sender = components(seg, element: 2)
        r.recipient = components(seg, element: 3)
        r.reference = seg.value(element: 5) ?? ""
        r.applicationReference = seg.value(element: 7) ?? ""
        r.acknowledgementRequest = seg.value(element: 9) ?? ""
        r.testIndicator = seg.value(element: 11) ?? ""
        r.delimiters = seg.delimiters
        r.hadServiceStringAdvice = scanner.hadUNA
        r.byteOffset = seg.byteOffset
        r.segmentNumber = seg.number
        current = r
        inInterchange = true
        currentSyntaxVersion = r.syntaxVersion
        resetInterchangeCounters()
        if let sid = SyntaxIdentifier(rawValue: r.syntaxIdentifier) {
            if !sid.isInSyntaxVersion3 && r.syntaxVersion < 4 && r.syntaxVersion > 0 && !options.acceptVersion4IdentifiersInVersion3 {
                report(.syntaxVersionNotSupported, .interchange, seg, element: 2, component: 1,
                       "syntax identifier \(r.syntaxIdentifier) belongs to syntax version 4, but UNB says version \(r.syntaxVersion)")
            }
        } else {
            report(.syntaxVersionNotSupported, .interchange, seg, element: 2, component: 1,
                   "syntax identifier '\(r.syntaxIdentifier)' is not supported (UNOA..UNOY expected)")
        }
        if r.syntaxVersion == 0 {
            report(.syntaxVersionNotSupported, .interchange, seg, element: 2, component: 2,
                   "syntax version '\(versionText)' is not supported (1, 2, 3 or 4 expected)")
        }
        serviceElements(seg, level: .interchange, position: 0)
        if seg.tokens.count > 1 && seg.tokens[seg.tokens.count - 1].isEmpty && syntaxVersion >= 4 { trailingSeparator(seg, level: .interchange) }
    }

    private func unz(_ seg: SegmentView) {
        guard inInterchange else { return }
        if inMessage { closeMessage(missingTrailerAt: seg) }
        if inGroup { closeGroup(missingTrailerAt: seg) }
        serviceElements(seg, level: .interchange, position: 0)
        let expected = groupCount > 0 ? groupCount : interchangeMessageCount
        let what = groupCount > 0 ? "functional groups" : "messages"
        if let countText = seg.value(element: 1), !countText.isEmpty, Int(countText) != expected {
            report(.controlCountMismatch, .interchange, seg, element: 2,
                   "UNZ interchange control count is \(countText) but the interchange has \(expected) \(what)")
        }
        let ref = seg.value(element: 2) ?? ""
        if ref != current!.reference {
            report(.referencesDoNotMatch, .interchange, seg, element: 3,
                   "UNZ reference '\(ref)' does not match UNB reference '\(current!.reference)'")
        }
        if groupCount == 0 && interchangeMessageCount == 0 {
            report(.lowerLevelEmpty, .interchange, seg, "the interchange contains no message and no functional group")
        }
        completed.append(current!)
        current = nil
        inInterchange = false
        scanner.endInterchange()
    }

    private func ung(_ seg: SegmentView) {
        guard inInterchange else { return }
        if inMessage { closeMessage(missingTrailerAt: seg) }
        if inGroup { closeGroup(missingTrailerAt: seg) }
        if bareMessageCount > 0 && !mixedReported {
            mixedReported = true
            report(.groupsAndMessagesMixed, .interchange, seg, "functional group UNG after messages outside groups: groups and messages must not be mixed")
        }
        groupCount += 1
        groupMessageCount = 0
        let ref = seg.value(element: 5) ?? ""
        group = GroupReport(reference: ref, groupIdentifier: seg.value(element: 1) ?? "", sender: components(seg, element: 2),
                            recipient: components(seg, element: 3), byteOffset: seg.byteOffset, segmentNumber: seg.number)
        inGroup = true
        if !groupRefs.insert(ref).inserted {
            report(.duplicate, .group, seg, element: 6, "group reference '\(ref)' is used twice in this interchange")
        }
        serviceElements(seg, level: .group, position: 0)
    }

    private func une(_ seg: SegmentView) {
        guard inInterchange else { return }
        if inMessage { closeMessage(missingTrailerAt: seg) }
        guard inGroup else {
            report(.notSupportedInPosition, .interchange, seg, "UNE without a functional group header UNG")
            return
        }
        serviceElements(seg, level: .group, position: 0)
        if let countText = seg.value(element: 1), !countText.isEmpty, Int(countText) != groupMessageCount {
            report(.controlCountMismatch, .group, seg, element: 2,
                   "UNE group control count is \(countText) but the group has \(groupMessageCount) messages")
        }
        let ref = seg.value(element: 2) ?? ""
        if ref != group!.reference {
            report(.referencesDoNotMatch, .group, seg, element: 3, "UNE reference '\(ref)' does not match UNG reference '\(group!.reference)'")
        }
        if groupMessageCount == 0 { report(.lowerLevelEmpty, .group, seg, "functional group '\(group!.reference)' contains no message") }
        current!.groups.append(group!)
        group = nil
        inGroup = false
    }

    private func unh(_ seg: SegmentView) {
        guard inInterchange else { return }
        if inMessage { closeMessage(missingTrailerAt: seg) }
        if group == nil {
            bareMessageCount += 1
            if groupCount > 0 && !mixedReported {
                mixedReported = true
                report(.groupsAndMessagesMixed, .interchange, seg, "message UNH outside a functional group in an interchange that uses groups")
            }
        }
        let ref = seg.value(element: 1) ?? ""
        let identifier = components(seg, element: 2)
        messageSegments = 1
        message = MessageReport(reference: ref, identifier: identifier, byteOffset: seg.byteOffset, segmentNumber: seg.number)
        inMessage = true
        if !messageRefs.insert(ref).inserted {
            report(.duplicate, .message, seg, element: 2, "message reference '\(ref)' is used twice in this interchange")
        }
        if let g = group, syntaxVersion <= 3, !g.groupIdentifier.isEmpty, let type = identifier.first, type != g.groupIdentifier {
            report(.moreThanOneMessageTypeInGroup, .group, seg, element: 3, component: 1,
                   "message type \(type) in functional group \(g.reference) of \(g.groupIdentifier) messages")
        }
        serviceElements(seg, level: .message, position: 1)
        structure = options.validateMessageStructure ? MessageStructureValidator(identifier: identifier, syntaxVersion: syntaxVersion) : nil
        lastSegment = (1, seg.number, seg.byteOffset, seg.tag)
    }

    private func unt(_ seg: SegmentView) {
        guard inInterchange else { return }
        guard inMessage else {
            report(.notSupportedInPosition, inGroup ? .group : .interchange, seg, "UNT without a message header UNH")
            return
        }
        messageSegments += 1
        finishStructure()
        serviceElements(seg, level: .message, position: messageSegments)
        if let countText = seg.value(element: 1), !countText.isEmpty, Int(countText) != messageSegments {
            report(.controlCountMismatch, .message, seg, element: 2,
                   "UNT segment count is \(countText) but message '\(message!.reference)' has \(messageSegments) segments (UNH to UNT)")
        }
        let ref = seg.value(element: 2) ?? ""
        if ref != message!.reference {
            report(.referencesDoNotMatch, .message, seg, element: 3, "UNT reference '\(ref)' does not match UNH reference '\(message!.reference)'")
        }
        endMessage()
    }

    private func finishStructure() {
        guard structure != nil else { return }
        let loc = Location(byteOffset: lastSegment.offset, segmentNumber: lastSegment.number,
                           segmentPositionInMessage: lastSegment.position, segmentTag: lastSegment.tag.description)
        structure!.finish(lastPosition: lastSegment.position, lastLocation: loc, into: &scratch)
        flushScratch()
        structure = nil
    }

    private func endMessage() {
        var m = message.take()!
        m.segmentCount = messageSegments
        inMessage = false
        groupMessageCount += 1
        interchangeMessageCount += 1
        current!.messageCount = interchangeMessageCount
        if current!.messageTypes.count < 16, !current!.messageTypes.contains(m.type) { current!.messageTypes.append(m.type) }
        if m.diagnostics.isEmpty {
            guard options.keepAcceptedMessages, acceptedKept < options.maxAcceptedMessagesKept else { return }
            acceptedKept += 1
        }
        if inGroup { group!.messages.append(m) } else { current!.messages.append(m) }
    }

    /// Clean messages kept so far in this interchange.
    var acceptedKept = 0

    private func closeMessage(missingTrailerAt seg: SegmentView?) {
        finishStructure()
        var loc = seg.map(location) ?? Location(byteOffset: lastSegment.offset, segmentNumber: lastSegment.number, segmentTag: lastSegment.tag.description)
        loc.segmentPositionInMessage = messageSegments
        report(Diagnostic(code: .missing, level: .message, location: loc,
                          reason: "message '\(message!.reference)' has no UNT trailer" + (seg.map { " before \($0.tag)" } ?? " (input truncated)")))
        endMessage()
    }

    private func closeGroup(missingTrailerAt seg: SegmentView?) {
        let loc = seg.map(location) ?? Location(byteOffset: lastSegment.offset, segmentNumber: lastSegment.number)
        report(Diagnostic(code: .missing, level: .group, location: loc,
                          reason: "functional group '\(group!.reference)' has no UNE trailer" + (seg.map { " before \($0.tag)" } ?? " (input truncated)")))
        current!.groups.append(group!)
        group = nil
        inGroup = false
    }

    private func closeInterchange(missingTrailerAt seg: SegmentView?) {
        if inMessage { closeMessage(missingTrailerAt: seg) }
        if inGroup { closeGroup(missingTrailerAt: seg) }
        let loc = seg.map(location) ?? Location(byteOffset: lastSegment.offset, segmentNumber: lastSegment.number)
        report(Diagnostic(code: .missing, level: .interchange, location: loc,
                          reason: "interchange '\(current!.reference)' has no UNZ trailer" + (seg.map { " before the next \($0.tag)" } ?? " (input truncated)")))
        completed.append(current!)
        current = nil
        inInterchange = false
    }

    /// Maps the scanner's lexical findings of the segment to located diagnostics.
    private func lexical(_ seg: SegmentView) {
        let inBody = inMessage && seg.tag != .UNH
        let envelopeLevel: DiagnosticLevel = inMessage ? .message : (inGroup ? .group : .interchange)
        var lastValue = (-1, -1, -1)
        for issue in scanner.issues {
            var element = 0, component = 0, repetition = 0
            for t in seg.tokens where Int(t.start) <= issue.offset && issue.offset <= Int(t.end) {
                element = Int(t.element) + 1
                component = Int(t.component) + 1
                repetition = Int(t.repetition)
                break
            }
            // One finding per value: a run of bad characters in one value is one error to the partner.
            if (element, component, repetition) == lastValue { continue }
            lastValue = (element, component, repetition)
            var loc = location(seg)
            if seg.tag == .UNT && inBody { loc.segmentPositionInMessage += 1 }  // reported before UNT is counted
            loc.byteOffset = seg.byteOffset + issue.offset
            loc.elementPosition = element
            loc.componentPosition = component
            let level: DiagnosticLevel = inBody && seg.tag != .UNT ? .element : envelopeLevel
            let byte = SegmentScanner.printable(issue.byte)
            let sid = current?.syntaxIdentifier ?? "?"
            switch issue.kind {
            case .invalidCharacter:
                report(Diagnostic(code: .invalidCharacter, level: level, location: loc,
                                  reason: "character '\(byte)' is not in the \(sid) character repertoire"))
            case .invalidUTF8:
                report(Diagnostic(code: .invalidCharacter, level: level, location: loc, reason: "bytes are not valid UTF-8 (\(sid))"))
            case .releaseMisuse:
                report(Diagnostic(code: .invalidServiceCharacter, level: level, location: loc,
                                  reason: "release character before '\(byte)', which is not a service character"))
            }
        }
    }

    // MARK: End of input

    func fatal(offset: Int, code: SyntaxErrorCode, reason: String) {
        let loc = Location(byteOffset: offset, segmentNumber: scanner.segmentNumber + 1, segmentPositionInMessage: inMessage ? messageSegments + 1 : 0)
        let level: DiagnosticLevel = !inInterchange ? .interchange : (inMessage ? .message : (inGroup ? .group : .interchange))
        if !inInterchange { openPlaceholderInterchange(at: loc) }
        report(Diagnostic(code: code, level: level, location: loc, reason: reason))
        if inMessage { finishStructure(); endMessage() }
        if inGroup { current!.groups.append(group!); group = nil; inGroup = false }
        completed.append(current!)
        current = nil
        inInterchange = false
    }

    func endOfInput() {
        if inInterchange { closeInterchange(missingTrailerAt: nil) }
    }
}
