/// One step of the pull cursor: structure, values and findings, in input order (the StAEDI event model).
public enum EDIFACTEvent: Hashable, Sendable {
    /// UNB read (after UNA, if any): the interchange's header is in `EDIFACTReader.interchange`.
    case startInterchange
    /// UNZ read, or the input ended inside the interchange.
    case endInterchange
    /// UNG read.
    case startGroup
    /// UNE read.
    case endGroup
    /// UNH read.
    case startMessage
    /// UNT read.
    case endMessage
    /// A segment begins; its values follow, then `endSegment`. `EDIFACTReader.segment` is the segment.
    case startSegment(SegmentTag)
    /// The segment's values are done.
    case endSegment
    /// A simple data element (or a composite with only its first component written).
    case element(ValueToken)
    /// A composite data element begins (data element position as in `ValueToken.element`).
    case startComposite(element: Int)
    /// One component of the open composite.
    case component(ValueToken)
    /// The composite is done.
    case endComposite
    /// A finding about the segment just read (or about the envelope it closes).
    /// Indirect, so the common events stay small and free of reference counting.
    indirect case diagnostic(Diagnostic)
    /// The bytes fed so far end inside a segment: feed more, or finish.
    case needInput
    /// All input has been read.
    case endOfInput
}

/// A streaming ISO 9735 pull cursor: feed bytes in chunks, call `next()` until `.needInput` or `.endOfInput`.
///
/// Values are borrowed: a token's bytes are read through `segment` (or `string(_:)`), which stays
/// valid until the next `feed`. Envelope and structure validation run as the cursor moves; findings
/// come as `.diagnostic` events and accumulate in the interchange reports (`takeReports()`).
public final class EDIFACTReader {
    /// The queue holds small trivial values (token and diagnostic indices), not `EDIFACTEvent`s:
    /// building the public enum, with its diagnostic payload, only when returned keeps the cursor
    /// free of reference counting on the per-value path.
    enum Step {
        case startInterchange, endInterchange, startGroup, endGroup, startMessage, endMessage
        case startSegment(SegmentTag), endSegment
        case element(Int), startComposite(Int), component(Int), endComposite
        case diagnostic(Int)
        case endOfInput
    }

    let scanner: SegmentScanner
    let state: EnvelopeState
    @exclusivity(unchecked) private var queue: [Step] = []
    @exclusivity(unchecked) private var index = 0
    @exclusivity(unchecked) private var queueEnd = 0
    private var ended = false
    @exclusivity(unchecked) private var diagnostics: [Diagnostic] = []

    /// False when `element`, `startComposite`, `component` and `endComposite` events are left out.
    public let valueEvents: Bool

    /// The segment whose events are being returned; nil before the first segment.
    @exclusivity(unchecked) public private(set) var segment: SegmentView?

    /// - Parameter valueEvents: false leaves out the events of values (`element`, `startComposite`, `component`,
    ///   `endComposite`), for callers that read values from `segment` at `startSegment`; the others come as ever.
    public init(options: ValidationOptions = .init(), valueEvents: Bool = true) {
        self.valueEvents = valueEvents
        scanner = SegmentScanner(maxSegmentLength: options.maxSegmentLength, strictRelease: options.strictReleaseCharacter)
        state = EnvelopeState(options: options, scanner: scanner)
        state.emitted = []
        queue.reserveCapacity(64)
    }

    /// Feeds the next chunk. Invalidates `segment` and tokens taken from it.
    public func feed(_ chunk: UnsafeRawBufferPointer) {
        segment = nil
        scanner.feed(chunk)
    }

    /// Feeds the next chunk.
    public func feed<C: Collection>(_ chunk: C) where C.Element == UInt8 {
        if let done: Void = chunk.withContiguousStorageIfAvailable({ feed(UnsafeRawBufferPointer($0)) }) { return done }
        Array(chunk).withUnsafeBytes { feed($0) }
    }

    /// Marks the end of input.
    public func finish() { scanner.finish() }

    /// The header facts and findings so far of the interchange being read.
    public var interchange: InterchangeReport? { state.current }

    /// Interchanges completed so far, each returned once.
    public func takeReports() -> [InterchangeReport] {
        defer { state.completed.removeAll() }
        return state.completed
    }

    /// The delimiters in force.
    public var delimiters: Delimiters { scanner.delimiters }

    /// A value of the current segment, unescaped and decoded by the interchange's syntax identifier.
    public func string(_ token: ValueToken) -> String {
        guard let segment else { return "" }
        return segment.string(token, as: scanner.syntax ?? .UNOY)
    }

    /// The next event.
    public func next() -> EDIFACTEvent {
        if index < queueEnd {
            let step = queue[index]
            index += 1
            switch step {
            case .startInterchange: return .startInterchange
            case .endInterchange: return .endInterchange
            case .startGroup: return .startGroup
            case .endGroup: return .endGroup
            case .startMessage: return .startMessage
            case .endMessage: return .endMessage
            case .startSegment(let tag): return .startSegment(tag)
            case .endSegment: return .endSegment
            case .element(let i): return .element(segment!.tokens[i])
            case .startComposite(let e): return .startComposite(element: e)
            case .component(let i): return .component(segment!.tokens[i])
            case .endComposite: return .endComposite
            case .diagnostic(let i): return .diagnostic(diagnostics[i])
            case .endOfInput: return .endOfInput
            }
        }
        queueEnd = 0
        if !diagnostics.isEmpty { diagnostics.removeAll(keepingCapacity: true) }
        index = 0
        if ended { return .endOfInput }
        switch scanner.next() {
        case .needInput:
            return .needInput
        case .end:
            state.endOfInput()
            finishInput()
        case .fatal(let offset, let code, let reason, _):
            let wasOpen = state.inInterchange
            state.fatal(offset: offset, code: code, reason: reason)
            drainDiagnostics()
            if wasOpen { push(.endInterchange) }
            finishInput()
        case .segment(let view):
            segment = view
            events(for: view)
        }
        return next()
    }

    /// Appends a step, reusing the queue's storage (no per-segment reallocation or clearing).
    @inline(__always)
    private func push(_ step: Step) {
        if queueEnd < queue.count { queue[queueEnd] = step } else { queue.append(step) }
        queueEnd += 1
    }

    private func finishInput() {
        drainDiagnostics()
        ended = true
        push(.endOfInput)
    }

    private func drainDiagnostics() {
        guard !state.emitted!.isEmpty else { return }
        for d in state.emitted! {
            push(.diagnostic(diagnostics.count))
            diagnostics.append(d)
        }
        state.emitted!.removeAll(keepingCapacity: true)
    }

    private func events(for view: SegmentView) {
        let hadInterchange = state.inInterchange, hadGroup = state.inGroup, hadMessage = state.inMessage
        state.accept(view)
        let tag = view.tag
        // Envelopes closed implicitly (a missing trailer) end before the new one starts.
        if tag == .UNB || tag == .UNG || tag == .UNH {
            if hadMessage { push(.endMessage) }
            if hadGroup && tag != .UNH { push(.endGroup) }
            if hadInterchange && tag == .UNB { push(.endInterchange) }
        }
        switch tag {
        case .UNB: push(.startInterchange)
        case .UNG: push(.startGroup)
        case .UNH: push(.startMessage)
        default: break
        }
        push(.startSegment(tag))
        let tokens = view.tokens
        let n = tokens.count
        var i = valueEvents ? 1 : n
        while i < n {
            let t = tokens[i]
            var j = i + 1
            while j < n && tokens[j].element == t.element && tokens[j].repetition == t.repetition { j += 1 }
            if j - i == 1 {
                push(.element(i))
            } else {
                push(.startComposite(Int(t.element)))
                var k = i
                while k < j { push(.component(k)); k += 1 }
                push(.endComposite)
            }
            i = j
        }
        push(.endSegment)
        drainDiagnostics()
        switch tag {
        case .UNT where hadMessage: push(.endMessage)
        case .UNE where hadGroup: push(.endGroup)
        case .UNZ where hadInterchange:
            if hadMessage { push(.endMessage) }
            if hadGroup { push(.endGroup) }
            push(.endInterchange)
        default: break
        }
    }
}
