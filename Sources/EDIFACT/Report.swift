/// What validation found in one message (UNH..UNT): its identity and its findings.
public struct MessageReport: Hashable, Sendable {
    /// UNH 0062, the message reference number.
    public var reference: String
    /// UNH S009 as written: 0065 type, 0052 version, 0054 release, 0051 agency, 0057 association code (absent ones omitted).
    public var identifier: [String]
    /// Segments counted from UNH to UNT inclusive, as received.
    public var segmentCount: Int
    /// Byte offset of the UNH segment.
    public var byteOffset: Int
    /// Segment number of UNH in the input.
    public var segmentNumber: Int
    /// Findings at message, segment and element level.
    public var diagnostics: [Diagnostic]

    public init(reference: String, identifier: [String], segmentCount: Int = 0, byteOffset: Int, segmentNumber: Int, diagnostics: [Diagnostic] = []) {
        self.reference = reference
        self.identifier = identifier
        self.segmentCount = segmentCount
        self.byteOffset = byteOffset
        self.segmentNumber = segmentNumber
        self.diagnostics = diagnostics
    }

    /// The message type (UNH S009/0065), e.g. "CUSCAR".
    public var type: String { identifier.first ?? "" }
    /// True when nothing in the message was found wrong.
    public var isAccepted: Bool { diagnostics.isEmpty }
}

/// What validation found in one functional group (UNG..UNE).
public struct GroupReport: Hashable, Sendable {
    /// UNG 0048, the group reference number.
    public var reference: String
    /// UNG 0038, the message group identification (usually the message type).
    public var groupIdentifier: String
    /// UNG S006 (application sender) components as written.
    public var sender: [String]
    /// UNG S007 (application recipient) components as written.
    public var recipient: [String]
    public var byteOffset: Int
    public var segmentNumber: Int
    /// Findings about the group itself (UNG/UNE).
    public var diagnostics: [Diagnostic]
    /// The messages of the group, in order.
    public var messages: [MessageReport]

    public init(reference: String, groupIdentifier: String, sender: [String], recipient: [String], byteOffset: Int, segmentNumber: Int,
                diagnostics: [Diagnostic] = [], messages: [MessageReport] = []) {
        self.reference = reference
        self.groupIdentifier = groupIdentifier
        self.sender = sender
        self.recipient = recipient
        self.byteOffset = byteOffset
        self.segmentNumber = segmentNumber
        self.diagnostics = diagnostics
        self.messages = messages
    }

    /// True when neither the group nor any of its messages has findings.
    public var isAccepted: Bool { diagnostics.isEmpty && messages.allSatisfy(\.isAccepted) }
}

/// What validation found in one interchange (UNA? UNB..UNZ), and the header facts a receipt needs.
public struct InterchangeReport: Hashable, Sendable {
    /// UNB S001/0001 as written, e.g. "UNOC".
    public var syntaxIdentifier: String
    /// UNB S001/0002 as a number (1...4); 0 when unreadable.
    public var syntaxVersion: Int
    /// UNB S002 (sender) components as written: 0004 id, 0007 qualifier, 0008 (0042 in v4).
    public var sender: [String]
    /// UNB S003 (recipient) components as written.
    public var recipient: [String]
    /// UNB 0020, the interchange control reference.
    public var reference: String
    /// UNB 0026, the application reference, often the message type.
    public var applicationReference: String
    /// UNB 0031: "1" when the sender asks for an acknowledgement.
    public var acknowledgementRequest: String
    /// UNB 0035: "1" for a test interchange.
    public var testIndicator: String
    /// The delimiters in force for this interchange.
    public var delimiters: Delimiters
    /// True when the interchange began with UNA.
    public var hadServiceStringAdvice: Bool
    public var byteOffset: Int
    public var segmentNumber: Int
    /// Findings about the interchange itself (UNA/UNB/UNZ, data outside messages, truncation, character set).
    public var diagnostics: [Diagnostic]
    /// Functional groups, in order (empty when the interchange has bare messages).
    public var groups: [GroupReport]
    /// Messages outside groups, in order.
    public var messages: [MessageReport]
    /// Every message read, kept or not (clean messages beyond `ValidationOptions.maxAcceptedMessagesKept` are only counted).
    public var messageCount: Int = 0
    /// The distinct message types (UNH S009/0065) in order of first appearance, at most 16.
    public var messageTypes: [String] = []

    public init(syntaxIdentifier: String = "", syntaxVersion: Int = 0, sender: [String] = [], recipient: [String] = [],
                reference: String = "", applicationReference: String = "", acknowledgementRequest: String = "",
                testIndicator: String = "", delimiters: Delimiters = .levelA(), hadServiceStringAdvice: Bool = false,
                byteOffset: Int = 0, segmentNumber: Int = 0, diagnostics: [Diagnostic] = [], groups: [GroupReport] = [],
                messages: [MessageReport] = []) {
        self.syntaxIdentifier = syntaxIdentifier
        self.syntaxVersion = syntaxVersion
        self.sender = sender
        self.recipient = recipient
        self.reference = reference
        self.applicationReference = applicationReference
        self.acknowledgementRequest = acknowledgementRequest
        self.testIndicator = testIndicator
        self.delimiters = delimiters
        self.hadServiceStringAdvice = hadServiceStringAdvice
        self.byteOffset = byteOffset
        self.segmentNumber = segmentNumber
        self.diagnostics = diagnostics
        self.groups = groups
        self.messages = messages
    }

    /// Every message, grouped or not, in order.
    public var allMessages: [MessageReport] { groups.isEmpty ? messages : groups.flatMap(\.messages) + messages }

    /// Every finding at every level, in input order.
    public var allDiagnostics: [Diagnostic] {
        var all = diagnostics
        for g in groups {
            all += g.diagnostics
            for m in g.messages { all += m.diagnostics }
        }
        for m in messages { all += m.diagnostics }
        return all.sorted { ($0.location.byteOffset, $0.code.rawValue) < ($1.location.byteOffset, $1.code.rawValue) }
    }

    /// True when nothing anywhere in the interchange was found wrong.
    public var isAccepted: Bool { diagnostics.isEmpty && groups.allSatisfy(\.isAccepted) && messages.allSatisfy(\.isAccepted) }

    /// The syntax identifier as a known repertoire, when it is one.
    public var syntax: SyntaxIdentifier? { SyntaxIdentifier(rawValue: syntaxIdentifier) }

    /// True when every message in the interchange is a CONTRL: such an interchange never gets a CONTRL back.
    /// (Reports built by hand without `messageTypes` fall back to the kept messages.)
    public var isControlInterchange: Bool {
        if !messageTypes.isEmpty { return messageTypes == ["CONTRL"] }
        let all = allMessages
        return !all.isEmpty && all.allSatisfy { $0.type == "CONTRL" }
    }
}
