/// The directory definitions flattened into plain integer tables, so that validating a segment reads a few
/// cache lines and never touches a String, an Array's reference count or a dictionary.
///
/// The tables are built once (with `DirectoryData.tables`) and live as long as the process; they are
/// immutable after `init`, which is what makes the `@unchecked Sendable` below true.

/// A value format reduced to integers.
struct CompiledFormat {
    static let alphanumeric: UInt8 = 0, alphabetic: UInt8 = 1, numeric: UInt8 = 2

    var characterClass: UInt8
    var isFixed: Bool
    var maxLength: Int32
    /// A raw length up to which a value needs no closer look: the maximum of a variable-length `an` value
    /// (neither release characters nor multi-byte characters make a value longer than its bytes), else -1.
    var fastMaxLength: Int32

    init(_ f: ElementFormat) {
        switch f.characterClass {
        case .alphanumeric: characterClass = Self.alphanumeric
        case .alphabetic: characterClass = Self.alphabetic
        case .numeric: characterClass = Self.numeric
        }
        isFixed = f.isFixedLength
        maxLength = Int32(f.maxLength)
        fastMaxLength = f.characterClass == .alphanumeric && !f.isFixedLength ? maxLength : -1
    }
}

/// A component (or the single value of a simple element).
struct CompiledComponent {
    var format: CompiledFormat
    var mandatory: Bool
}

/// A data element position of a segment.
struct CompiledElement {
    var firstComponent: Int32
    /// 1 for a simple element.
    var componentCount: Int32
    var maxRepeats: Int32
    var mandatory: Bool
    var isComposite: Bool
    /// Bit c set when component c is mandatory (composites only).
    var mandatoryComponents: UInt64
}

/// A segment layout.
struct CompiledSegment {
    var tag: UInt32
    var firstElement: Int32
    var elementCount: Int32
    /// Bit e set when data element e + 1 is mandatory.
    var mandatoryElements: UInt64
}

/// Raw pointers into a `CompiledSegmentTable` for the hot path, and the owner for wording findings.
struct SegmentLayouts: @unchecked Sendable {
    let segments: UnsafePointer<CompiledSegment>
    let segmentCount: Int
    let elements: UnsafePointer<CompiledElement>
    let components: UnsafePointer<CompiledComponent>
    /// The table itself; it lives as long as the process (`DirectoryData.tables`), so no reference is counted.
    let owner: Unmanaged<CompiledSegmentTable>

    /// The index of a segment layout, or -1.
    @inline(__always)
    func index(of tag: UInt32) -> Int {
        for i in 0..<segmentCount where segments[i].tag == tag { return i }
        return -1
    }
}

/// The segment layouts of one directory.
final class CompiledSegmentTable: @unchecked Sendable {
    let segments: UnsafeMutableBufferPointer<CompiledSegment>
    let elements: UnsafeMutableBufferPointer<CompiledElement>
    let components: UnsafeMutableBufferPointer<CompiledComponent>
    /// The definitions, same order as `segments`: read only to word a diagnostic.
    let definitions: [SegmentDefinition]

    init(segments defs: [SegmentDefinition]) {
        let sorted = defs.sorted { $0.tag.rawValue < $1.tag.rawValue }
        definitions = sorted
        var segs: [CompiledSegment] = []
        var elems: [CompiledElement] = []
        var comps: [CompiledComponent] = []
        for d in sorted {
            precondition(d.elements.count <= 64, "\(d.tag) has more than 64 data elements")
            var mandatoryElements: UInt64 = 0
            let first = Int32(elems.count)
            for (e, el) in d.elements.enumerated() {
                if el.requirement == .mandatory { mandatoryElements |= 1 << UInt64(e) }
                let firstComponent = Int32(comps.count)
                var mandatoryComponents: UInt64 = 0
                switch el.kind {
                case .simple(let f):
                    comps.append(CompiledComponent(format: CompiledFormat(f), mandatory: true))
                case .composite(let cs):
                    precondition(cs.count <= 64, "\(d.tag) \(el.id) has more than 64 components")
                    for (c, comp) in cs.enumerated() {
                        if comp.requirement == .mandatory { mandatoryComponents |= 1 << UInt64(c) }
                        comps.append(CompiledComponent(format: CompiledFormat(comp.format), mandatory: comp.requirement == .mandatory))
                    }
                }
                elems.append(CompiledElement(
                    firstComponent: firstComponent, componentCount: Int32(comps.count) - firstComponent,
                    maxRepeats: Int32(clamping: el.maxRepeats), mandatory: el.requirement == .mandatory,
                    isComposite: !el.components.isEmpty, mandatoryComponents: mandatoryComponents))
            }
            segs.append(CompiledSegment(tag: d.tag.rawValue, firstElement: first, elementCount: Int32(d.elements.count),
                                        mandatoryElements: mandatoryElements))
        }
        segments = .allocate(capacity: segs.count)
        _ = segments.initialize(from: segs)
        elements = .allocate(capacity: elems.count)
        _ = elements.initialize(from: elems)
        components = .allocate(capacity: comps.count)
        _ = components.initialize(from: comps)
    }

    /// Pointers for the validators' hot path.
    var layouts: SegmentLayouts {
        SegmentLayouts(segments: UnsafePointer(segments.baseAddress!), segmentCount: segments.count,
                       elements: UnsafePointer(elements.baseAddress!), components: UnsafePointer(components.baseAddress!),
                       owner: .passUnretained(self))
    }

    deinit {
        segments.deallocate()
        elements.deallocate()
        components.deallocate()
    }

    /// The index of a segment layout, or -1.
    @inline(__always)
    func index(of tag: UInt32) -> Int {
        for i in 0..<segments.count where segments[i].tag == tag { return i }
        return -1
    }
}

/// A position in a message structure: a segment or a group, with its siblings linked.
struct StructureEntry {
    /// The segment's tag, or the group's trigger segment tag.
    var tag: UInt32
    /// The next sibling, or -1 after the last.
    var next: Int32
    /// A group's trigger (its first member); -1 for a segment.
    var firstChild: Int32
    /// A segment's layout in the table, or -1 when its directory does not define it.
    var segment: Int32
    var maxRepeats: Int32
    var mandatory: Bool
    /// The group number (SGn); 0 for a segment.
    var group: Int16
}

/// Maps segment tags to small dense ids (0 for a tag no table knows), so transitions are a table lookup.
/// Tags are three upper-case letters; the map is a 26×26×26 byte array built once for the process.
struct TagIndex: @unchecked Sendable {
    let ids: UnsafePointer<UInt8>
    /// Known tags; ids run from 1 to `count`.
    let count: Int

    init(_ tags: Set<SegmentTag>) {
        let map = UnsafeMutablePointer<UInt8>.allocate(capacity: 26 * 26 * 26)
        map.initialize(repeating: 0, count: 26 * 26 * 26)
        var n = 0
        for t in tags.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard let k = Self.key(t.rawValue) else { continue }
            n += 1
            precondition(n < 256, "more than 255 segment tags")
            map[k] = UInt8(n)
        }
        // Lives as long as the process, like every directory table.
        ids = UnsafePointer(map)
        count = n
    }

    @inline(__always)
    static func key(_ raw: UInt32) -> Int? {
        let a = raw &>> 16 &- 0x41, b = (raw &>> 8 & 0xFF) &- 0x41, c = (raw & 0xFF) &- 0x41
        guard a < 26 && b < 26 && c < 26 else { return nil }
        return Int(a &* 676 &+ b &* 26 &+ c)
    }

    /// The id of a tag, 0 when unknown (including tags that are not three upper-case letters).
    @inline(__always)
    func id(_ raw: UInt32) -> Int {
        let a = raw &>> 16 &- 0x41, b = (raw &>> 8 & 0xFF) &- 0x41, c = (raw & 0xFF) &- 0x41
        guard a < 26 && b < 26 && c < 26 else { return 0 }
        return Int(ids[Int(a &* 676 &+ b &* 26 &+ c)])
    }
}

/// A message structure flattened in document order: entry 0 stands for UNH (it matches no tag), its siblings
/// are the top-level body; each group's members follow the group entry. UNT is left out: the reader ends the
/// message there.
///
/// Since the open groups are always the ancestors of the segment last matched, where the next segment fits
/// depends only on that segment's entry and the new tag, except for repetition counts. `transitions` holds
/// that answer for every (entry, tag id): the level and entry matched, whether it repeats the current entry
/// at that level (then the count decides) and whether mandatory entries are passed over on the way.
final class CompiledMessage: @unchecked Sendable {
    /// A tag value no segment has (real tags have a zero top byte; unreadable ones 0xFF).
    static let noTag: UInt32 = 0xFE00_0000
    static let repeatBit: UInt32 = 1 << 20
    static let skipsMandatoryBit: UInt32 = 1 << 21
    static let validBit: UInt32 = 1 << 31

    let definition: MessageDefinition
    let table: CompiledSegmentTable
    let entries: UnsafeMutableBufferPointer<StructureEntry>
    let tags: TagIndex
    /// Row per entry, column per tag id (`tags.count + 1` wide): 0 when the tag fits nowhere.
    let transitions: UnsafeMutableBufferPointer<UInt32>
    let transitionWidth: Int
    /// Levels of nesting, the top level counting as 1.
    let maxDepth: Int
    /// E.g. "CUSCAR:D:95B:UN", for reasons.
    let label: String

    init(_ definition: MessageDefinition, table: CompiledSegmentTable, tags: TagIndex) {
        self.definition = definition
        self.table = table
        self.tags = tags
        label = definition.identifierText
        var body = definition.structure
        precondition(body.first?.tag == .UNH && body.last?.tag == .UNT, "\(label) must start with UNH and end with UNT")
        body.removeFirst()
        body.removeLast()
        var list = [StructureEntry(tag: Self.noTag, next: -1, firstChild: -1, segment: -1, maxRepeats: 1, mandatory: false, group: 0)]
        var parent = [-1]
        var depth = 1
        func flatten(_ nodes: [StructureNode], level: Int, previous: Int, group: Int) {
            depth = max(depth, level)
            var prev = previous
            for n in nodes {
                let i = list.count
                if prev >= 0 { list[prev].next = Int32(i) }
                prev = i
                parent.append(group)
                switch n.kind {
                case .segment(let t):
                    list.append(StructureEntry(tag: t.rawValue, next: -1, firstChild: -1, segment: Int32(table.index(of: t.rawValue)),
                                               maxRepeats: Int32(clamping: n.maxRepeats), mandatory: n.requirement == .mandatory, group: 0))
                case .group(let g):
                    let trigger = n.tag
                    list.append(StructureEntry(tag: trigger.rawValue, next: -1, firstChild: Int32(i + 1),
                                               segment: Int32(table.index(of: trigger.rawValue)), maxRepeats: Int32(clamping: n.maxRepeats),
                                               mandatory: n.requirement == .mandatory, group: Int16(clamping: g)))
                    flatten(n.children, level: level + 1, previous: -1, group: i)
                }
            }
        }
        flatten(body, level: 1, previous: 0, group: -1)
        precondition(depth < FrameStack.capacity, "\(label) nests deeper than the validator's \(FrameStack.capacity) levels")
        precondition(list.count < 0x10000, "\(label) has too many entries")
        maxDepth = depth
        entries = .allocate(capacity: list.count)
        _ = entries.initialize(from: list)

        // The transitions, by the same search `MessageStructureValidator.fullSearch` makes, counts aside.
        let width = tags.count + 1
        transitionWidth = width
        var cells = [UInt32](repeating: 0, count: list.count * width)
        for top in list.indices where list[top].firstChild < 0 {
            var chain = [top]  // the entry at each level, innermost first
            while let p = chain.last.map({ parent[$0] }), p >= 0 { chain.append(p) }
            for column in 1..<width {
                var cell: UInt32 = 0
                var skipped = false
                search: for (k, current) in chain.enumerated() {
                    let level = UInt32(chain.count - 1 - k)
                    if tags.id(list[current].tag) == column {
                        cell = Self.validBit | level << 16 | Self.repeatBit | UInt32(current)
                        break search
                    }
                    var n = Int(list[current].next)
                    while n >= 0 {
                        if tags.id(list[n].tag) == column {
                            cell = Self.validBit | level << 16 | UInt32(n)
                            break search
                        }
                        if list[n].mandatory { skipped = true }
                        n = Int(list[n].next)
                    }
                }
                if cell != 0 && skipped { cell |= Self.skipsMandatoryBit }
                cells[top * width + column] = cell
            }
        }
        transitions = .allocate(capacity: cells.count)
        _ = transitions.initialize(from: cells)
    }

    deinit {
        entries.deallocate()
        transitions.deallocate()
    }

    /// True when the tag occurs anywhere in the structure (to word an out-of-place segment).
    func contains(tag: UInt32) -> Bool {
        for e in entries where e.tag == tag { return true }
        return false
    }
}
