import EDIFACT

/// Writes the segment the reader stands on as one JSON Lines record or as an indented listing, straight
/// from its borrowed tokens: no per-segment copy, so listing a 100 MB file costs little beyond reading it.
public struct SegmentPrinter {
    /// The reader whose current segment is printed; values are decoded by its interchange's syntax identifier.
    public let reader: EDIFACTReader

    /// A printer for the reader's segments.
    public init(reader: EDIFACTReader) { self.reader = reader }

    /// The JSON Lines form, with a final line break: `{"segment":N,"offset":B,"tag":"NAD","elements":[["CN"],...]}`.
    /// Each data element is an array of its components; a repeated (syntax version 4) element is
    /// `{"repeats":[[...],[...]]}`.
    public func appendJSON(_ segment: SegmentView, to out: inout [UInt8]) {
        out += #"{"segment":"#.utf8
        JSONText.appendInt(segment.number, to: &out)
        out += #","offset":"#.utf8
        JSONText.appendInt(segment.byteOffset, to: &out)
        out += #","tag":"#.utf8
        JSONText.appendString(tag(segment), to: &out)
        out += #","elements":["#.utf8
        let tokens = segment.tokens
        var i = 1
        while i < tokens.count {
            let element = tokens[i].element
            var end = i
            var repeated = false
            while end < tokens.count && tokens[end].element == element {
                if tokens[end].repetition > 0 { repeated = true }
                end += 1
            }
            if i > 1 { out.append(UInt8(ascii: ",")) }
            if repeated { out += #"{"repeats":["#.utf8 }
            out.append(UInt8(ascii: "["))
            for k in i..<end {
                if k > i {
                    out += tokens[k].repetition != tokens[k - 1].repetition ? Array("],[".utf8) : [UInt8(ascii: ",")]
                }
                appendJSONValue(segment, tokens[k], to: &out)
            }
            out.append(UInt8(ascii: "]"))
            if repeated { out += "]}".utf8 }
            i = end
        }
        out += "]}\n".utf8
    }

    /// The human listing: `TAG (segment N, byte B)`, then one line per non-empty element, numbered as
    /// findings and CONTRL number them (the tag is position 1), components joined by ':' and
    /// occurrences by ' * '. Every line is indented by `indent` levels.
    public func appendListing(_ segment: SegmentView, indent: Int, to out: inout [UInt8]) {
        let pad = repeatElement(UInt8(ascii: " "), count: indent * 2)
        out += pad
        out += tag(segment).utf8
        out += " (segment ".utf8
        JSONText.appendInt(segment.number, to: &out)
        out += ", byte ".utf8
        JSONText.appendInt(segment.byteOffset, to: &out)
        out += ")\n".utf8
        let tokens = segment.tokens
        var i = 1
        while i < tokens.count {
            let element = tokens[i].element
            var end = i
            var empty = true
            while end < tokens.count && tokens[end].element == element {
                if !tokens[end].isEmpty { empty = false }
                end += 1
            }
            if !empty {
                out += pad
                out += "    ".utf8
                JSONText.appendInt(Int(element) + 1, to: &out)
                out += ": ".utf8
                for k in i..<end {
                    if k > i { out += tokens[k].repetition != tokens[k - 1].repetition ? Array(" * ".utf8) : [UInt8(ascii: ":")] }
                    out += reader.string(tokens[k]).utf8
                }
                out.append(0x0A)
            }
            i = end
        }
    }

    /// The tag as the directory knows it, or as written when it is not a three-letter tag.
    func tag(_ segment: SegmentView) -> String {
        let known = segment.tag.description
        if !known.isEmpty || segment.tokens.isEmpty { return known }
        return reader.string(segment.tokens[0])
    }

    /// One value as a JSON string: plain ASCII is copied straight from the input, anything else is
    /// unescaped and decoded by the syntax identifier first.
    func appendJSONValue(_ segment: SegmentView, _ t: ValueToken, to out: inout [UInt8]) {
        let raw = segment.rawBytes(t)
        if !t.escaped && raw.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            out.append(UInt8(ascii: "\""))
            out += raw
            out.append(UInt8(ascii: "\""))
        } else {
            JSONText.appendString(reader.string(t), to: &out)
        }
    }
}

/// Streams a file through the pull reader; the engine behind `gateway edifact parse`.
public enum EDIFACTFileParse {
    /// Runs `gateway edifact parse`: segments on `out` (JSON Lines, or an indented listing), findings on
    /// `err`. Memory stays flat: each segment is written as soon as it is read.
    public static func run(file: String, json: Bool, options: ValidationOptions, out: OutputSink, err: OutputSink) -> CommandStatus {
        var options = options
        options.keepAcceptedMessages = false
        let reader = EDIFACTReader(options: options)
        let printer = SegmentPrinter(reader: reader)
        var inGroup = false, inMessage = false
        var findings = 0, interchanges = 0
        var line: [UInt8] = []
        line.reserveCapacity(4096)

        func drain() {
            while true {
                switch reader.next() {
                case .needInput, .endOfInput:
                    interchanges += reader.takeReports().count
                    return
                case .startGroup: inGroup = true
                case .endGroup: inGroup = false
                case .startMessage: inMessage = true
                case .endMessage: inMessage = false
                case .startSegment(let tag):
                    guard let segment = reader.segment else { continue }
                    line.removeAll(keepingCapacity: true)
                    if json {
                        printer.appendJSON(segment, to: &line)
                    } else {
                        printer.appendListing(segment, indent: depth(of: tag, inGroup: inGroup, inMessage: inMessage), to: &line)
                    }
                    out.write(bytes: line)
                case .diagnostic(let d):
                    findings += 1
                    out.flush()
                    err.line(FindingText.line(file: file, d))
                default: break
                }
            }
        }

        do throws(InputFileError) {
            try ChunkedFile.forEachChunk(path: file) { chunk in
                reader.feed(chunk)
                drain()
            }
        } catch {
            out.flush()
            err.line(error.description)
            return .failure
        }
        reader.finish()
        drain()
        out.flush()
        if interchanges == 0 && findings == 0 { err.line("\(file): INVALID: no interchange found") }
        return interchanges > 0 && findings == 0 ? .success : .invalid
    }

    /// Nesting depth of a segment in the listing: interchange envelope 0, group envelope 1, message
    /// envelope 1 (2 in a group), data segments one deeper. Decided by tag for envelope segments, so a
    /// missing trailer does not shift the next envelope.
    static func depth(of tag: SegmentTag, inGroup: Bool, inMessage: Bool) -> Int {
        switch tag {
        case .UNB, .UNZ: 0
        case .UNG, .UNE: 1
        case .UNH, .UNT: inGroup ? 2 : 1
        default: (inGroup ? 1 : 0) + (inMessage ? 1 : 0) + 1
        }
    }
}
