/// The directory text embedded by the generated files (`D95B.swift`, `Service3.swift`, ...), parsed once.
///
/// The text format is described in `scripts/gen-directories.py`; adding a message or a directory means
/// extending the generator's lists and registering the new text in `sources`.
enum DirectoryData {
    /// Every embedded directory text.
    static var sources: [String] { [d95b, d96a, service3, service4] }

    /// The parsed and compiled tables, built on first use (`static let` is initialised once, thread-safely).
    static let tables = DirectoryTables(sources: sources)
}

/// One parsed directory: its messages and segment layouts.
struct ParsedDirectory: Sendable {
    var name: String
    var messages: [MessageDefinition]
    var segments: [SegmentTag: SegmentDefinition]
}

/// All directories, with the compiled forms the validators run on. A class, so that reaching it copies nothing.
final class DirectoryTables: Sendable {
    let directories: [ParsedDirectory]
    let messages: [MessageDefinition]
    let compiledMessages: [CompiledMessage]
    /// Service segment layouts for syntax versions 1-3 (the envelope segments are the same) and 4.
    let service3: CompiledSegmentTable
    let service4: CompiledSegmentTable
    let service3Segments: [SegmentTag: SegmentDefinition]
    let service4Segments: [SegmentTag: SegmentDefinition]
    /// `service3.layouts` and `service4.layouts`, kept as plain values for the per-segment path.
    let service3Layouts: SegmentLayouts
    let service4Layouts: SegmentLayouts

    init(sources: [String]) {
        let parsed = sources.map(DirectoryParser.parse)
        directories = parsed
        messages = parsed.flatMap(\.messages)
        var allTags = Set<SegmentTag>()
        for d in parsed {
            allTags.formUnion(d.segments.keys)
            for m in d.messages {
                func collect(_ ns: [StructureNode]) {
                    for n in ns {
                        allTags.insert(n.tag)
                        collect(n.children)
                    }
                }
                collect(m.structure)
            }
        }
        let tags = TagIndex(allTags)
        var compiled: [CompiledMessage] = []
        for d in parsed {
            let table = CompiledSegmentTable(segments: Array(d.segments.values))
            for m in d.messages { compiled.append(CompiledMessage(m, table: table, tags: tags)) }
        }
        compiledMessages = compiled
        func service(_ name: String) -> ParsedDirectory {
            guard let d = parsed.first(where: { $0.name == name }) else { preconditionFailure("no \(name) directory") }
            return d
        }
        let s3 = service("SERVICE3").segments, s4 = service("SERVICE4").segments
        service3Segments = s3
        service4Segments = s4
        let t3 = CompiledSegmentTable(segments: Array(s3.values)), t4 = CompiledSegmentTable(segments: Array(s4.values))
        service3 = t3
        service4 = t4
        service3Layouts = t3.layouts
        service4Layouts = t4.layouts
    }

    /// The service segment layouts of a syntax version; nil for an unknown version.
    func serviceLayouts(syntaxVersion: Int) -> SegmentLayouts? {
        switch syntaxVersion {
        case 1...3: service3Layouts
        case 4: service4Layouts
        default: nil
        }
    }

    /// Index of the message whose first four identifier parts match (the association code is not compared).
    func messageIndex(_ identifier: [String]) -> Int? {
        guard identifier.count >= 4 else { return nil }
        for (i, m) in messages.enumerated()
        where m.identifier[0] == identifier[0] && m.identifier[1] == identifier[1]
            && m.identifier[2] == identifier[2] && m.identifier[3] == identifier[3] {
            return i
        }
        return nil
    }
}

/// Turns directory text into definitions. The text is generated, so a malformed line is a build defect and traps.
enum DirectoryParser {
    static func parse(_ text: String) -> ParsedDirectory {
        var name = ""
        var messageLines: [(id: Substring, name: Substring, structure: Substring)] = []
        var segmentLines: [(tag: Substring, name: Substring, elements: Substring)] = []
        var composites: [Substring: [(id: Substring, requirement: Requirement)]] = [:]
        var formats: [Substring: ElementFormat] = [:]
        for line in text.split(separator: "\n") {
            let f = line.split(separator: "|", omittingEmptySubsequences: false)
            switch f.first {
            case "D"? where f.count == 3: name = String(f[1])
            case "M"? where f.count == 4: messageLines.append((f[1], f[2], f[3]))
            case "S"? where f.count == 4: segmentLines.append((f[1], f[2], f[3]))
            case "C"? where f.count == 3: composites[f[1]] = f[2].split(separator: " ").map { member($0, line).0 }.map { ($0.id, $0.requirement) }
            case "E"? where f.count == 3:
                guard let format = ElementFormat(f[2]) else { fail(line) }
                formats[f[1]] = format
            default: fail(line)
            }
        }
        var segments: [SegmentTag: SegmentDefinition] = [:]
        for s in segmentLines {
            let elements = s.elements.split(separator: " ").map { token -> ElementDefinition in
                let (m, repeats) = member(token, s.tag)
                if let comps = composites[m.id] {
                    let cs = comps.map { c -> ComponentDefinition in
                        guard let f = formats[c.id] else { fail(token) }
                        return ComponentDefinition(id: String(c.id), requirement: c.requirement, format: f)
                    }
                    return ElementDefinition(id: String(m.id), requirement: m.requirement, maxRepeats: repeats, kind: .composite(cs))
                }
                guard let f = formats[m.id] else { fail(token) }
                return ElementDefinition(id: String(m.id), requirement: m.requirement, maxRepeats: repeats, kind: .simple(f))
            }
            let tag = SegmentTag(String(s.tag))
            segments[tag] = SegmentDefinition(tag: tag, name: String(s.name), elements: elements)
        }
        let messages = messageLines.map { m -> MessageDefinition in
            let tokens = m.structure.split(separator: " ")
            var i = 0
            let structure = nodes(tokens, &i, line: m.structure)
            guard i == tokens.count else { fail(m.structure) }
            var used: [SegmentTag: SegmentDefinition] = [:]
            func collect(_ ns: [StructureNode]) {
                for n in ns {
                    if case .segment(let t) = n.kind, let d = segments[t] { used[t] = d }
                    collect(n.children)
                }
            }
            collect(structure)
            return MessageDefinition(identifier: m.id.split(separator: ":").map(String.init), name: String(m.name), directory: name,
                                     structure: structure, segments: used)
        }
        return ParsedDirectory(name: name, messages: messages, segments: segments)
    }

    /// `TAG:M1` or `SGn:C99 [ ... ]` tokens up to the closing `]` or the end.
    private static func nodes(_ tokens: [Substring], _ i: inout Int, line: Substring) -> [StructureNode] {
        var out: [StructureNode] = []
        while i < tokens.count {
            let t = tokens[i]
            if t == "]" { return out }
            let (m, repeats) = member(t, line)
            i += 1
            if i < tokens.count && tokens[i] == "[" {
                guard m.id.hasPrefix("SG"), let n = Int(m.id.dropFirst(2)) else { fail(t) }
                i += 1
                let children = nodes(tokens, &i, line: line)
                guard i < tokens.count, tokens[i] == "]", let first = children.first, !first.isGroup else { fail(line) }
                i += 1
                out.append(StructureNode(kind: .group(n), requirement: m.requirement, maxRepeats: repeats, children: children))
            } else {
                guard m.id.utf8.count == 3 else { fail(t) }
                out.append(StructureNode(kind: .segment(SegmentTag(String(m.id))), requirement: m.requirement, maxRepeats: repeats))
            }
        }
        return out
    }

    /// `ID:M`, `ID:C99`: the id, its status and its repeat count (1 when omitted).
    private static func member(_ token: Substring, _ context: Substring) -> ((id: Substring, requirement: Requirement), Int) {
        guard let colon = token.firstIndex(of: ":") else { fail(context) }
        let id = token[..<colon]
        let rest = token[token.index(after: colon)...]
        guard let st = rest.first, let req = Requirement(rawValue: String(st)) else { fail(context) }
        let digits = rest.dropFirst()
        guard let repeats = digits.isEmpty ? 1 : Int(digits), repeats > 0 else { fail(context) }
        return ((id, req), repeats)
    }

    private static func fail(_ context: Substring) -> Never {
        preconditionFailure("malformed directory text near '\(context)'; regenerate with scripts/gen-directories.py")
    }
}
