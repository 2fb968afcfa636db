/// Checks the segments of one message (UNH..UNT) against its directory definition as they stream past:
/// segment order and repetitions, segment groups, and every data element's presence, type and length.
///
/// The walk keeps one frame per nesting level (the entry last matched there and how often it has occurred
/// in a row). Where a segment fits is a lookup in a table precomputed per message (`CompiledMessage`), then
/// one pass over the segment's tokens checks the elements. Nothing is allocated and no String is made unless
/// a diagnostic is produced; findings are capped per message so hostile input cannot grow memory without bound.
///
/// Findings use the ISO 9735 0085 codes: 15 segment not expected here (also for unknown tags), 35 too many
/// segment repetitions, 36 too many group repetitions, 13 mandatory segment or group missing (reported at
/// the last segment processed before the place where it was expected); at element level 16, 13, 35, 37, 39
/// and 40 (see `ElementChecker`).
public struct MessageStructureValidator {
    /// At most this many findings are produced for one message.
    public static let maxDiagnosticsPerMessage = 200

    /// The compiled message. Tables live as long as the process (`DirectoryData.tables`), so the validator holds
    /// no counted reference: it is a plain value, cheap to copy, and its hot path does no reference counting.
    let compiled: Unmanaged<CompiledMessage>
    let entries: UnsafeMutablePointer<StructureEntry>
    let transitions: UnsafeMutablePointer<UInt32>
    let transitionWidth: Int
    let tags: TagIndex
    let layouts: SegmentLayouts
    var frames = FrameStack()
    var depth = 1
    var budget = MessageStructureValidator.maxDiagnosticsPerMessage
    // The segment processed last: where a missing segment is reported.
    var lastPosition = 1
    var lastNumber = 0
    var lastOffset = 0
    var lastTag = SegmentTag.UNH
    var started = false

    /// nil when the message/directory is not in the tables.
    ///
    /// `syntaxVersion` is the interchange's; the message's own directory defines its segments (element
    /// repetitions only occur in version 4 data), so today it does not change the checks.
    public init?(identifier: [String], syntaxVersion: Int) {
        let tables = DirectoryData.tables
        guard let i = tables.messageIndex(identifier) else { return nil }
        let message = tables.compiledMessages[i]
        compiled = .passUnretained(message)
        entries = message.entries.baseAddress!
        transitions = message.transitions.baseAddress!
        transitionWidth = message.transitionWidth
        tags = message.tags
        layouts = message.table.layouts
    }

    /// The definition the message is checked against.
    public var definition: MessageDefinition { message.definition }

    private var message: CompiledMessage { compiled.takeUnretainedValue() }

    /// Every segment after UNH and before UNT, with its position in the message (UNH = 1).
    public mutating func accept(_ segment: SegmentView, position: Int, into diagnostics: inout [Diagnostic]) {
        if !started {
            // Until the first body segment, the segment processed last is UNH; the reader does not hand it to us.
            // Its offset is unknown here; the place where a missing first segment belonged is this one's.
            started = true
            lastPosition = position - 1
            lastNumber = segment.number - 1
            lastOffset = segment.byteOffset
        }
        let tag = segment.tag.rawValue

        // Where the segment fits, from the table built for the entry we stand on (see `CompiledMessage`);
        // only a repetition beyond its maximum needs the full search.
        let top = Int(frames[depth - 1].entry)
        let move = transitions[top &* transitionWidth &+ tags.id(tag)]
        guard move != 0 else {
            notSupported(segment, position: position, into: &diagnostics)
            remember(segment, position: position)
            return
        }
        var matchLevel = Int(move &>> 16 & 0xF)
        var matchEntry = Int(move & 0xFFFF)
        var isRepeat = move & CompiledMessage.repeatBit != 0
        if isRepeat && frames[matchLevel].count >= entries[matchEntry].maxRepeats {
            guard let m = fullSearch(tag, segment, position: position, into: &diagnostics) else {
                remember(segment, position: position)
                return
            }
            (matchLevel, matchEntry, isRepeat) = m
        } else if move & CompiledMessage.skipsMandatoryBit != 0 {
            reportSkipped(toLevel: matchLevel, entry: matchEntry, isRepeat: isRepeat, into: &diagnostics)
        }

        // Commit.
        if isRepeat {
            var f = frames[matchLevel]
            if f.count < Int32.max { f.count += 1 }
            frames[matchLevel] = f
        } else {
            frames[matchLevel] = FrameStack.Frame(entry: Int32(matchEntry), count: 1)
        }
        depth = matchLevel + 1
        let matched = entries[matchEntry]
        if matched.firstChild >= 0 {
            frames[depth] = FrameStack.Frame(entry: matched.firstChild, count: 1)
            depth += 1
        }
        if matched.segment >= 0 && budget > 0 {
            ElementChecker.check(segment, segment: Int(matched.segment), layouts: layouts, position: position,
                                 budget: &budget, into: &diagnostics)
        }
        remember(segment, position: position)
    }

    /// The search the transition table stands in for, with the repetition counts in view: the current entry
    /// again while below its maximum, else a later sibling, else the same one level further out. When only an
    /// exhausted place fits, the segment is counted there and reported (35 or 36); when nothing fits, 15 and nil.
    /// Mandatory entries passed over are reported as missing.
    @inline(never)
    private mutating func fullSearch(_ tag: UInt32, _ segment: SegmentView, position: Int,
                                     into diagnostics: inout [Diagnostic]) -> (level: Int, entry: Int, isRepeat: Bool)? {
        var matchLevel = -1
        var matchEntry = -1
        var isRepeat = false
        var skippedMandatory = false
        var fullLevel = -1
        var fullSkippedMandatory = false
        var level = depth - 1
        search: while level >= 0 {
            let current = Int(frames[level].entry)
            let e = entries[current]
            if e.tag == tag {
                if frames[level].count < e.maxRepeats {
                    matchLevel = level
                    matchEntry = current
                    isRepeat = true
                    break search
                }
                if fullLevel < 0 {
                    fullLevel = level
                    fullSkippedMandatory = skippedMandatory
                }
            }
            var n = Int(e.next)
            while n >= 0 {
                let s = entries[n]
                if s.tag == tag {
                    matchLevel = level
                    matchEntry = n
                    break search
                }
                if s.mandatory { skippedMandatory = true }
                n = Int(s.next)
            }
            level -= 1
        }
        var overflow = false
        if matchLevel < 0 {
            guard fullLevel >= 0 else {
                notSupported(segment, position: position, into: &diagnostics)
                return nil
            }
            matchLevel = fullLevel
            matchEntry = Int(frames[fullLevel].entry)
            isRepeat = true
            skippedMandatory = fullSkippedMandatory
            overflow = true
        }
        if skippedMandatory {
            reportSkipped(toLevel: matchLevel, entry: matchEntry, isRepeat: isRepeat, into: &diagnostics)
        }
        if overflow { tooManyRepetitions(segment, position: position, entry: matchEntry, into: &diagnostics) }
        return (matchLevel, matchEntry, isRepeat)
    }

    /// At UNT: `lastPosition`/`lastLocation` are those of the last segment before UNT; reports missing mandatory segments/groups.
    public mutating func finish(lastPosition: Int, lastLocation: Location, into diagnostics: inout [Diagnostic]) {
        var level = depth - 1
        while level >= 0 {
            var n = Int(entries[Int(frames[level].entry)].next)
            while n >= 0 {
                if entries[n].mandatory {
                    var loc = lastLocation
                    loc.segmentPositionInMessage = lastPosition
                    emit(Diagnostic(code: .missing, level: .segment, location: loc,
                                    reason: missingReason(n, after: lastLocation.segmentTag, position: lastPosition, atEnd: true)),
                         into: &diagnostics)
                }
                n = Int(entries[n].next)
            }
            level -= 1
        }
        depth = 1
        frames[0] = FrameStack.Frame(entry: 0, count: 1)
    }

    // MARK: Findings (cold paths)

    @inline(__always)
    private mutating func remember(_ segment: SegmentView, position: Int) {
        lastPosition = position
        lastNumber = segment.number
        lastOffset = segment.byteOffset
        lastTag = segment.tag
    }

    private mutating func emit(_ d: Diagnostic, into diagnostics: inout [Diagnostic]) {
        guard budget > 0 else { return }
        budget -= 1
        diagnostics.append(d)
    }

    @inline(never)
    private mutating func reportSkipped(toLevel matchLevel: Int, entry matchEntry: Int, isRepeat: Bool, into diagnostics: inout [Diagnostic]) {
        var level = depth - 1
        while level >= matchLevel {
            var n = Int(entries[Int(frames[level].entry)].next)
            let stop = level == matchLevel ? (isRepeat ? Int(entries[Int(frames[level].entry)].next) : matchEntry) : -1
            while n >= 0 && n != stop {
                if entries[n].mandatory { missing(n, into: &diagnostics) }
                n = Int(entries[n].next)
            }
            level -= 1
        }
    }

    private mutating func missing(_ entry: Int, into diagnostics: inout [Diagnostic]) {
        let loc = Location(byteOffset: lastOffset, segmentNumber: lastNumber, segmentPositionInMessage: lastPosition,
                           segmentTag: lastTag.description)
        emit(Diagnostic(code: .missing, level: .segment, location: loc,
                        reason: missingReason(entry, after: lastTag.description, position: lastPosition, atEnd: false)),
             into: &diagnostics)
    }

    private func missingReason(_ entry: Int, after: String, position: Int, atEnd: Bool) -> String {
        let e = entries[entry]
        let tag = SegmentTag(rawValue: e.tag).description
        let what = e.group > 0 ? "mandatory segment group \(e.group) (starting with \(tag))" : "mandatory segment \(tag)"
        let whereText = atEnd ? "before UNT; the last segment is \(after) at position \(position)"
                              : "after \(after) at position \(position)"
        return "\(message.label): \(what) is missing \(whereText)"
    }

    @inline(never)
    private mutating func notSupported(_ segment: SegmentView, position: Int, into diagnostics: inout [Diagnostic]) {
        let tag = segment.tag.description
        let reason: String
        if tag.isEmpty {
            reason = "\(message.label): a segment with an unreadable tag is not supported here"
        } else if message.contains(tag: segment.tag.rawValue) {
            reason = "\(message.label): segment \(tag) is not expected here (after \(lastTag) at position \(lastPosition))"
        } else {
            reason = "\(message.label) has no segment \(tag)"
        }
        emit(Diagnostic(code: .notSupportedInPosition, level: .segment, location: segmentLocation(segment, position: position),
                        reason: reason), into: &diagnostics)
    }

    @inline(never)
    private mutating func tooManyRepetitions(_ segment: SegmentView, position: Int, entry: Int, into diagnostics: inout [Diagnostic]) {
        let e = entries[entry]
        let tag = segment.tag.description
        let d: Diagnostic
        if e.firstChild >= 0 {
            d = Diagnostic(code: .tooManyGroupRepetitions, level: .segment, location: segmentLocation(segment, position: position),
                           reason: "\(message.label): segment group \(e.group) (starting with \(tag)) occurs more than \(e.maxRepeats) times")
        } else {
            d = Diagnostic(code: .tooManySegmentRepetitions, level: .segment, location: segmentLocation(segment, position: position),
                           reason: "\(message.label): segment \(tag) occurs more than \(e.maxRepeats) times in a row here")
        }
        emit(d, into: &diagnostics)
    }

    private func segmentLocation(_ segment: SegmentView, position: Int) -> Location {
        Location(byteOffset: segment.byteOffset, segmentNumber: segment.number, segmentPositionInMessage: position,
                 segmentTag: segment.tag.description)
    }
}

/// Element checks of the service segments against the service directory of the interchange's syntax version.
public enum ServiceSegmentValidator {
    /// Element checks of a service segment (UNB UNG UNH UNT UNE UNZ, and UCI.. in CONTRL) against the syntax version's service directory.
    public static func validateElements(_ segment: SegmentView, syntaxVersion: Int, positionInMessage: Int, into diagnostics: inout [Diagnostic]) {
        guard let layouts = DirectoryData.tables.serviceLayouts(syntaxVersion: syntaxVersion) else { return }
        let index = layouts.index(of: segment.tag.rawValue)
        guard index >= 0 else { return }
        var budget = MessageStructureValidator.maxDiagnosticsPerMessage
        ElementChecker.check(segment, segment: index, layouts: layouts, position: positionInMessage, budget: &budget, into: &diagnostics)
    }
}

/// The data element checks shared by message and service segments: too many elements or components (16),
/// mandatory element or component missing (13), too many repetitions (35), wrong character type (37),
/// too long (39) or too short (40).
enum ElementChecker {
    /// Checks a segment's elements against layout `index`; findings go to `diagnostics`, at most `budget` of them.
    ///
    /// The common case, a clean segment, is one tight pass over the tokens that only answers "all fine?";
    /// any doubt reruns the segment through `reportFindings`, which words them.
    @inline(__always)
    static func check(_ seg: SegmentView, segment index: Int, layouts table: SegmentLayouts, position: Int,
                      budget: inout Int, into diagnostics: inout [Diagnostic]) {
        if !isClean(seg, segment: index, layouts: table) {
            reportFindings(seg, segment: index, layouts: table, position: position, budget: &budget, into: &diagnostics)
        }
    }

    /// True when the segment's elements break no rule of layout `index`.
    static func isClean(_ seg: SegmentView, segment index: Int, layouts table: SegmentLayouts) -> Bool {
        let s = table.segments[index]
        guard var p = seg.tokens.baseAddress else { return s.mandatoryElements == 0 }
        let end = p + seg.tokens.count
        while p < end && p.pointee.element == 0 { p += 1 }
        let elementCount = UInt16(truncatingIfNeeded: s.elementCount)
        // Indexed by data element number (from 1).
        let elements = table.elements + (Int(s.firstElement) - 1)
        let mark = seg.delimiters.decimalMark
        var present: UInt64 = 0
        while p < end {
            let first = p.pointee
            let e = first.element
            // Element 0 (the tag) only leads; met again it is malformed input: let the wording pass say so.
            if e &- 1 >= elementCount { return false }
            let el = elements[Int(e)]
            let components = table.components + Int(el.firstComponent)
            let componentCount = UInt16(truncatingIfNeeded: el.componentCount)
            var written: UInt64 = 0
            repeat {
                let t = p.pointee
                if t.element != e || t.repetition != first.repetition { break }
                if t.component >= componentCount { return false }
                if t.end != t.start {
                    written |= 1 &<< UInt64(t.component)
                    let f = components[Int(t.component)].format
                    // Release characters only make a value shorter, so a raw length within the bound settles it.
                    if t.end &- t.start > f.fastMaxLength {
                        if valueError(t, f, seg, mark: mark) != nil { return false }
                    }
                }
                p += 1
            } while p < end
            if Int32(first.repetition) >= el.maxRepeats { return false }
            if written != 0 {
                present |= 1 &<< UInt64(e &- 1)
                if written & el.mandatoryComponents != el.mandatoryComponents { return false }
            }
        }
        return s.mandatoryElements & ~present == 0
    }

    /// The wording pass: every finding of the segment, at most `budget` of them.
    @inline(never)
    static func reportFindings(_ seg: SegmentView, segment index: Int, layouts table: SegmentLayouts, position: Int,
                       budget: inout Int, into diagnostics: inout [Diagnostic]) {
        let s = table.segments[index]
        let tokens = seg.tokens
        let count = tokens.count
        let elementCount = Int(s.elementCount)
        let mark = seg.delimiters.decimalMark
        var i = 0
        while i < count && tokens[i].element == 0 { i += 1 }
        var present: UInt64 = 0
        var repeatsReported: UInt64 = 0
        while i < count {
            let first = tokens[i]
            let e = Int(first.element)
            if e == 0 || e > elementCount {
                report(.tooManyConstituents, seg, first, index: index, table: table, position: position, element: e, component: 0,
                       budget: &budget, into: &diagnostics)
                break
            }
            let elementIndex = Int(s.firstElement) + e - 1
            let el = table.elements[elementIndex]
            let repetition = first.repetition
            var components: UInt64 = 0
            var tooMany = false
            var j = i
            while j < count {
                let t = tokens[j]
                if t.element != first.element || t.repetition != repetition { break }
                let c = Int(t.component)
                if c >= Int(el.componentCount) {
                    if !tooMany {
                        tooMany = true
                        report(.tooManyConstituents, seg, t, index: index, table: table, position: position, element: e, component: c,
                               budget: &budget, into: &diagnostics)
                    }
                } else if t.end != t.start {
                    components |= 1 &<< UInt64(c)
                    let f = table.components[Int(el.firstComponent) + c].format
                    if let code = valueError(t, f, seg, mark: mark) {
                        report(code, seg, t, index: index, table: table, position: position, element: e, component: c,
                               budget: &budget, into: &diagnostics)
                    }
                }
                j += 1
            }
            let bit: UInt64 = 1 &<< UInt64(e - 1)
            if Int32(repetition) >= el.maxRepeats && repeatsReported & bit == 0 {
                repeatsReported |= bit
                report(.tooManySegmentRepetitions, seg, first, index: index, table: table, position: position, element: e, component: 0,
                       budget: &budget, into: &diagnostics)
            }
            if components != 0 {
                present |= bit
                if el.isComposite {
                    let missing = el.mandatoryComponents & ~components
                    if missing != 0 {
                        missingComponents(missing, seg, first, index: index, table: table, position: position, element: e,
                                          budget: &budget, into: &diagnostics)
                    }
                }
            }
            if budget <= 0 { return }
            i = j
        }
        let missing = s.mandatoryElements & ~present
        if missing != 0 {
            missingElements(missing, seg, index: index, table: table, position: position, budget: &budget, into: &diagnostics)
        }
    }

    /// The 0085 code of a value that breaks its format, or nil. Minus sign and decimal mark are not counted
    /// in a numeric value's length; release characters are not counted in any.
    @inline(__always)
    static func valueError(_ t: ValueToken, _ f: CompiledFormat, _ seg: SegmentView, mark: UInt8) -> SyntaxErrorCode? {
        let length: Int
        switch f.characterClass {
        case CompiledFormat.numeric:
            guard let n = numericLength(seg.rawBytes(t), mark: mark) else { return .invalidCharacterType }
            length = n
        case CompiledFormat.alphabetic:
            for b in seg.rawBytes(t) where b &- 0x30 < 10 { return .invalidCharacterType }
            length = textLength(t, f, seg)
        default:
            length = textLength(t, f, seg)
        }
        if length > Int(f.maxLength) { return .tooLong }
        if f.isFixed && length < Int(f.maxLength) { return .tooShort }
        return nil
    }

    /// The length of a text value in characters.
    @inline(__always)
    static func textLength(_ t: ValueToken, _ f: CompiledFormat, _ seg: SegmentView) -> Int {
        // `SegmentView.length` drops release characters and, in a UTF-8 interchange (UNOW/UNOY) whose
        // segment holds multi-byte characters, counts characters; in ISO 8859 repertoires bytes are characters.
        seg.length(t)
    }

    /// The number of digits of a numeric value, or nil when it has anything but digits, one leading minus
    /// sign and one decimal mark, or no digit at all.
    @inline(__always)
    static func numericLength(_ raw: UnsafeBufferPointer<UInt8>, mark: UInt8) -> Int? {
        var i = 0
        if raw.count > 0 && raw[0] == UInt8(ascii: "-") { i = 1 }
        var digits = 0
        var sawMark = false
        while i < raw.count {
            let b = raw[i]
            if b &- 0x30 < 10 {
                digits += 1
            } else if b == mark && !sawMark {
                sawMark = true
            } else {
                return nil
            }
            i += 1
        }
        return digits > 0 ? digits : nil
    }

    // MARK: Wording (cold paths)

    /// "NAD C082/3039" or "BGM 1004".
    static func name(_ def: SegmentDefinition, element e: Int, component c: Int?) -> String {
        let el = def.elements[e - 1]
        if let c, c < el.components.count { return "\(def.tag) \(el.id)/\(el.components[c].id)" }
        return "\(def.tag) \(el.id)"
    }

    static func location(_ seg: SegmentView, offset: Int, position: Int, element e: Int, component c: Int, repetition: Int) -> Location {
        Location(byteOffset: seg.byteOffset + offset, segmentNumber: seg.number, segmentPositionInMessage: position,
                 segmentTag: seg.tag.description, elementPosition: e + 1, componentPosition: c, repetition: repetition)
    }

    @inline(never)
    static func report(_ code: SyntaxErrorCode, _ seg: SegmentView, _ t: ValueToken, index: Int, table: SegmentLayouts,
                       position: Int, element e: Int, component c: Int, budget: inout Int, into diagnostics: inout [Diagnostic]) {
        guard budget > 0 else { return }
        budget -= 1
        let def = table.owner.takeUnretainedValue().definitions[index]
        let el = e >= 1 && e <= def.elements.count ? def.elements[e - 1] : nil
        let repeating = (el?.maxRepeats ?? 1) > 1 || t.repetition > 0
        let repetition = repeating ? Int(t.repetition) + 1 : 0
        var componentPosition = (el?.components.isEmpty ?? true) && c == 0 ? 0 : c + 1
        let reason: String
        switch code {
        case .tooManyConstituents where el == nil:
            componentPosition = 0
            reason = "\(def.tag) has \(seg.elementCount) data elements; at most \(def.elements.count) allowed"
        case .tooManyConstituents:
            let n = componentCount(seg, t)
            if el!.components.isEmpty {
                reason = "\(def.tag) \(el!.id) is a simple data element but has \(n) components"
            } else {
                reason = "\(def.tag) \(el!.id) has \(n) components; at most \(el!.components.count) allowed"
            }
        case .tooManySegmentRepetitions:
            componentPosition = 0
            reason = "\(def.tag) \(el!.id) occurs more than \(el!.maxRepeats) times"
        default:
            let format = el!.format ?? el!.components[c].format
            let what = name(def, element: e, component: el!.components.isEmpty ? nil : c)
            let mark = seg.delimiters.decimalMark
            switch code {
            case .invalidCharacterType where format.characterClass == .numeric:
                reason = "\(what) must be numeric (\(format)): digits, at most one leading minus sign and one decimal mark '\(Unicode.Scalar(mark))'"
            case .invalidCharacterType:
                reason = "\(what) must not contain digits (\(format))"
            case .tooLong:
                reason = "\(what) is \(valueLength(seg, t, format: format, mark: mark)) \(format.characterClass == .numeric ? "digits" : "characters") long; at most \(format.maxLength) allowed (\(format))"
            default:
                reason = "\(what) is \(valueLength(seg, t, format: format, mark: mark)) \(format.characterClass == .numeric ? "digits" : "characters") long; exactly \(format.maxLength) required (\(format))"
            }
        }
        diagnostics.append(Diagnostic(code: code, level: .element,
                                      location: location(seg, offset: Int(t.start), position: position, element: e,
                                                         component: componentPosition, repetition: repetition),
                                      reason: reason))
    }

    static func valueLength(_ seg: SegmentView, _ t: ValueToken, format: ElementFormat, mark: UInt8) -> Int {
        if format.characterClass == .numeric { return numericLength(seg.rawBytes(t), mark: mark) ?? seg.length(t) }
        return seg.length(t)
    }

    /// Components written in the occurrence of `t`'s element.
    static func componentCount(_ seg: SegmentView, _ t: ValueToken) -> Int {
        var n = 0
        for x in seg.tokens where x.element == t.element && x.repetition == t.repetition { n = max(n, Int(x.component) + 1) }
        return n
    }

    @inline(never)
    static func missingComponents(_ missing: UInt64, _ seg: SegmentView, _ first: ValueToken, index: Int, table: SegmentLayouts,
                                  position: Int, element e: Int, budget: inout Int, into diagnostics: inout [Diagnostic]) {
        let def = table.owner.takeUnretainedValue().definitions[index]
        let el = def.elements[e - 1]
        for c in 0..<el.components.count where missing & (1 &<< UInt64(c)) != 0 {
            guard budget > 0 else { return }
            budget -= 1
            // Point at the empty component when written, else at the end of the occurrence.
            var offset = -1
            var end = Int(first.end)
            for t in seg.tokens where t.element == first.element && t.repetition == first.repetition {
                if Int(t.component) == c {
                    offset = Int(t.start)
                    break
                }
                end = max(end, Int(t.end))
            }
            if offset < 0 { offset = end }
            let repetition = el.maxRepeats > 1 || first.repetition > 0 ? Int(first.repetition) + 1 : 0
            diagnostics.append(Diagnostic(
                code: .missing, level: .element,
                location: location(seg, offset: offset, position: position, element: e, component: c + 1, repetition: repetition),
                reason: "mandatory component \(name(def, element: e, component: c)) is missing"))
        }
    }

    @inline(never)
    static func missingElements(_ missing: UInt64, _ seg: SegmentView, index: Int, table: SegmentLayouts, position: Int,
                                budget: inout Int, into diagnostics: inout [Diagnostic]) {
        let def = table.owner.takeUnretainedValue().definitions[index]
        for e in stride(from: 1, through: def.elements.count, by: 1) where missing & (1 &<< UInt64(e - 1)) != 0 {
            guard budget > 0 else { return }
            budget -= 1
            let offset = seg.firstToken(element: e).map { Int($0.start) } ?? seg.length
            diagnostics.append(Diagnostic(
                code: .missing, level: .element,
                location: location(seg, offset: offset, position: position, element: e, component: 0, repetition: 0),
                reason: "mandatory data element \(name(def, element: e, component: nil)) is missing"))
        }
    }
}

/// The nesting frames of the structure walk, stored inline (no heap, value semantics): at most
/// `FrameStack.capacity` levels, which `CompiledMessage` checks when the tables are built.
struct FrameStack {
    static let capacity = 12

    /// The entry matched last at a level (a segment at the innermost level, the open group below it) and how
    /// often it has occurred in a row in the current instance of the enclosing group.
    struct Frame {
        var entry: Int32
        var count: Int32
    }

    private var storage: (Frame, Frame, Frame, Frame, Frame, Frame, Frame, Frame, Frame, Frame, Frame, Frame)

    init() {
        let f = Frame(entry: 0, count: 1)
        storage = (f, f, f, f, f, f, f, f, f, f, f, f)
    }

    subscript(level: Int) -> Frame {
        @inline(__always) mutating get {
            withUnsafeMutableBytes(of: &storage) { $0.load(fromByteOffset: level &* MemoryLayout<Frame>.stride, as: Frame.self) }
        }
        @inline(__always) set {
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: newValue, toByteOffset: level &* MemoryLayout<Frame>.stride, as: Frame.self) }
        }
    }
}
