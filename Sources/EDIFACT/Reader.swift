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
    case diagnostic(Diagnostic)
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
    let scanner: SegmentScanner
    let state: EnvelopeState
    private var queue: [EDIFACTEvent] = []
    private var index = 0
    private var ended = false

    /// The segment whose events are being returned; nil before the first segment.
    public private(set) var segment: SegmentView?

    public init(options: ValidationOptions = .init()) {
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
        if index < queue.count {
            defer { index += 1 }
            return queue[index]
        }
        queue.removeAll(keepingCapacity: true)
        index = 0
        if ended { return .endOfInput }
        switch scanner.next() {
        case .needInput:
            return .needInput
        case .end:
            state.endOfInput()
            finishInput()
        case .fatal(let offset, let code, let reason, _):
            let wasOpen = state.current != nil
            state.fatal(offset: offset, code: code, reason: reason)
            drainDiagnostics()
            if wasOpen { queue.append(.endInterchange) }
            finishInput()
        case .segment(let view):
            segment = view
            events(for: view)
        }
        return next()
    }

    private func finishInput() {
        drainDiagnostics()
        ended = true
        queue.append(.endOfInput)
    }

    private func drainDiagnostics() {
        for d in state.emitted! { queue.append(.diagnostic(d)) }
        state.emitted!.removeAll(keepingCapacity: true)
    }

    private func events(for view: SegmentView) {
        let hadInterchange = state.current != nil, hadGroup = state.group != nil, hadMessage = state.message != nil
        state.accept(view)
        let tag = view.tag
        // Envelopes closed implicitly (a missing trailer) end before the new one starts.
        if tag == .UNB || tag == .UNG || tag == .UNH {
            if hadMessage { queue.append(.endMessage) }
            if hadGroup && tag != .UNH { queue.append(.endGroup) }
            if hadInterchange && tag == .UNB { queue.append(.endInterchange) }
        }
        switch tag {
        case .UNB: queue.append(.startInterchange)
        case .UNG: queue.append(.startGroup)
        case .UNH: queue.append(.startMessage)
        default: break
        }
        queue.append(.startSegment(tag))
        let tokens = view.tokens
        var i = 1
        while i < tokens.count {
            let t = tokens[i]
            var j = i + 1
            while j < tokens.count && tokens[j].element == t.element && tokens[j].repetition == t.repetition { j += 1 }
            if j - i == 1 {
                queue.append(.element(t))
            } else {
                queue.append(.startComposite(element: Int(t.element)))
                for k in i..<j { queue.append(.component(tokens[k])) }
                queue.append(.endComposite)
            }
            i = j
        }
        queue.append(.endSegment)
        drainDiagnostics()
        switch tag {
        case .UNT where hadMessage: queue.append(.endMessage)
        case .UNE where hadGroup: queue.append(.endGroup)
        case .UNZ where hadInterchange:
            if hadMessage { queue.append(.endMessage) }
            if hadGroup { queue.append(.endGroup) }
            queue.append(.endInterchange)
        default: break
        }
    }
}
