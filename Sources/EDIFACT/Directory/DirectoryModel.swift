/// Whether a segment, segment group, data element or component must be present (directory status M or C).
public enum Requirement: String, Sendable, Hashable, Codable {
    /// M: must occur.
    case mandatory = "M"
    /// C: may occur (conditional, by the directory's wording).
    case conditional = "C"
}

/// The character class of a data element value as the directory writes it: `a`, `n` or `an`.
public enum CharacterClass: String, Sendable, Hashable, Codable {
    /// `a`: letters and other non-digit characters; digits are an error (0085 code 37).
    case alphabetic = "a"
    /// `n`: digits, with at most one leading minus sign and one decimal mark, neither counted in the length.
    case numeric = "n"
    /// `an`: any character of the repertoire.
    case alphanumeric = "an"
}

/// The format of a simple data element or component as the directory writes it: `an..35`, `n..6`, `a3`, `n1`.
public struct ElementFormat: Hashable, Sendable, CustomStringConvertible {
    /// The characters allowed.
    public var characterClass: CharacterClass
    /// The maximum length, or the exact length when `isFixedLength`.
    public var maxLength: Int
    /// True for a fixed length (`a3`), false for a maximum length (`an..35`).
    public var isFixedLength: Bool

    /// Makes a format from its parts.
    public init(_ characterClass: CharacterClass, maxLength: Int, fixed: Bool = false) {
        self.characterClass = characterClass
        self.maxLength = maxLength
        self.isFixedLength = fixed
    }

    /// Parses the directory notation (`an..35`, `n1`); nil when the text is not one.
    public init?<S: StringProtocol>(_ text: S) {
        var rest = Substring(text)
        let cls: CharacterClass
        if rest.hasPrefix("an") {
            cls = .alphanumeric
            rest = rest.dropFirst(2)
        } else if rest.hasPrefix("a") {
            cls = .alphabetic
            rest = rest.dropFirst()
        } else if rest.hasPrefix("n") {
            cls = .numeric
            rest = rest.dropFirst()
        } else {
            return nil
        }
        let fixed = !rest.hasPrefix("..")
        if !fixed { rest = rest.dropFirst(2) }
        guard !rest.isEmpty, rest.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(rest), n > 0 else { return nil }
        self.init(cls, maxLength: n, fixed: fixed)
    }

    /// The shortest value allowed when present: the fixed length, or 1.
    public var minLength: Int { isFixedLength ? maxLength : 1 }

    /// The directory notation, e.g. `an..35`.
    public var description: String { characterClass.rawValue + (isFixedLength ? "" : "..") + String(maxLength) }
}

/// A component data element of a composite: its id, status and format.
public struct ComponentDefinition: Hashable, Sendable {
    /// The data element id, e.g. "3039".
    public var id: String
    /// Whether the component must be present when its composite is.
    public var requirement: Requirement
    /// The format of the component's value.
    public var format: ElementFormat

    /// Makes a component definition.
    public init(id: String, requirement: Requirement, format: ElementFormat) {
        self.id = id
        self.requirement = requirement
        self.format = format
    }
}

/// One data element position of a segment: a simple data element or a composite of components.
public struct ElementDefinition: Hashable, Sendable {
    /// What the position holds.
    public enum Kind: Hashable, Sendable {
        /// A simple data element with its format.
        case simple(ElementFormat)
        /// A composite data element with its components in order.
        case composite([ComponentDefinition])
    }

    /// The data element or composite id, e.g. "3035" or "C082".
    public var id: String
    /// Whether the element must be present.
    public var requirement: Requirement
    /// How many occurrences are allowed (more than 1 only in syntax version 4 service segments).
    public var maxRepeats: Int
    /// Simple or composite, with the format(s).
    public var kind: Kind

    /// Makes an element definition.
    public init(id: String, requirement: Requirement, maxRepeats: Int = 1, kind: Kind) {
        self.id = id
        self.requirement = requirement
        self.maxRepeats = maxRepeats
        self.kind = kind
    }

    /// The components of a composite; empty for a simple element.
    public var components: [ComponentDefinition] {
        if case .composite(let c) = kind { return c }
        return []
    }

    /// The format of a simple element; nil for a composite.
    public var format: ElementFormat? {
        if case .simple(let f) = kind { return f }
        return nil
    }
}

/// A segment as the directory defines it: its tag, name and ordered data elements (position 1 first).
public struct SegmentDefinition: Hashable, Sendable {
    /// The segment tag.
    public var tag: SegmentTag
    /// The directory's name of the segment, e.g. "Name and address".
    public var name: String
    /// The data elements in order; index 0 is data element 1 (CONTRL position 2, the tag being 1).
    public var elements: [ElementDefinition]

    /// Makes a segment definition.
    public init(tag: SegmentTag, name: String, elements: [ElementDefinition]) {
        self.tag = tag
        self.name = name
        self.elements = elements
    }
}

/// One entry of a message structure: a segment, or a segment group whose first child is its trigger segment.
public struct StructureNode: Hashable, Sendable {
    /// Segment or group.
    public enum Kind: Hashable, Sendable {
        /// A segment, by tag.
        case segment(SegmentTag)
        /// Segment group number n (SGn).
        case group(Int)
    }

    /// Segment or group.
    public var kind: Kind
    /// Whether the segment or group must occur.
    public var requirement: Requirement
    /// How often the segment or group may occur in a row at this place.
    public var maxRepeats: Int
    /// A group's members, trigger segment first; empty for a segment.
    public var children: [StructureNode]

    /// Makes a structure node.
    public init(kind: Kind, requirement: Requirement, maxRepeats: Int, children: [StructureNode] = []) {
        self.kind = kind
        self.requirement = requirement
        self.maxRepeats = maxRepeats
        self.children = children
    }

    /// True for a segment group.
    public var isGroup: Bool {
        if case .group = kind { return true }
        return false
    }

    /// The segment's tag, or a group's trigger segment tag.
    public var tag: SegmentTag {
        switch kind {
        case .segment(let t): return t
        case .group: return children.first?.tag ?? SegmentTag(rawValue: 0xFF00_0000)
        }
    }
}

/// A message as the directory defines it: identifier, name, structure from UNH to UNT, and segment layouts.
public struct MessageDefinition: Hashable, Sendable {
    /// UNH S009 0065, 0052, 0054, 0051 as partners write them, e.g. ["CUSCAR", "D", "95B", "UN"].
    public var identifier: [String]
    /// The directory's name of the message, e.g. "Customs cargo report message".
    public var name: String
    /// The directory the definition comes from, e.g. "D95B" or "SERVICE3".
    public var directory: String
    /// The structure in order, UNH first and UNT last.
    public var structure: [StructureNode]
    /// The layouts of the segments the structure uses that its directory defines (in UN directories UNH and
    /// UNT are absent: they belong to the service directory of the syntax version, see `Directory.serviceSegment`).
    public var segments: [SegmentTag: SegmentDefinition]

    /// Makes a message definition.
    public init(identifier: [String], name: String, directory: String, structure: [StructureNode], segments: [SegmentTag: SegmentDefinition]) {
        self.identifier = identifier
        self.name = name
        self.directory = directory
        self.structure = structure
        self.segments = segments
    }

    /// The identifier as UNH writes it, e.g. "CUSCAR:D:95B:UN".
    public var identifierText: String { identifier.joined(separator: ":") }
}
