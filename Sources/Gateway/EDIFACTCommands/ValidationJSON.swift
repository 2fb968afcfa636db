import EDIFACT
import Foundation

/// The JSON document `gateway edifact validate --json` prints: one entry per file, keys sorted.
public struct ValidationDocument: Codable, Sendable, Hashable {
    /// One entry per file, in command-line order.
    public var files: [File]

    /// A document over the given files.
    public init(files: [File]) { self.files = files }

    /// One file's verdict, what it contained, and every finding in input order.
    public struct File: Codable, Sendable, Hashable {
        /// The path as given on the command line.
        public var file: String
        /// True when the file was read, held at least one interchange, and nothing was found wrong.
        public var valid: Bool
        /// Why the file could not be read (the OS error); absent when it was read.
        public var error: String?
        /// Segments read (UNA is not a segment).
        public var segments: Int
        /// The interchanges, in order.
        public var interchanges: [Interchange]
        /// Every finding, interchange by interchange, in input order.
        public var findings: [Finding]

        /// An entry for a file not yet read.
        public init(file: String) {
            self.file = file
            self.valid = false
            self.segments = 0
            self.interchanges = []
            self.findings = []
        }
    }

    /// An interchange (UNB..UNZ): header facts, groups and messages.
    public struct Interchange: Codable, Sendable, Hashable {
        /// UNB 0020.
        public var reference: String
        /// UNB S002 as written, components joined by ':' (e.g. "CARRIERX:ZZZ").
        public var sender: String
        /// UNB S003 as written, components joined by ':'.
        public var recipient: String
        /// UNB 0001, e.g. "UNOC".
        public var syntax: String
        /// UNB 0002 as a number; 0 when unreadable.
        public var version: Int
        /// True when nothing in the interchange was found wrong.
        public var valid: Bool
        /// Every message read, grouped or not (the lists keep every rejected message but at most
        /// `ValidationOptions.maxAcceptedMessagesKept` clean ones).
        public var messageCount: Int
        /// Messages outside functional groups.
        public var messages: [Message]
        /// Functional groups (UNG..UNE).
        public var groups: [Group]

        /// The JSON form of a validator report.
        public init(_ r: InterchangeReport) {
            reference = r.reference
            sender = r.sender.joined(separator: ":")
            recipient = r.recipient.joined(separator: ":")
            syntax = r.syntaxIdentifier
            version = r.syntaxVersion
            valid = r.isAccepted
            messageCount = max(r.messageCount, r.allMessages.count)
            messages = r.messages.map(Message.init)
            groups = r.groups.map(Group.init)
        }
    }

    /// A functional group (UNG..UNE).
    public struct Group: Codable, Sendable, Hashable {
        /// UNG 0048.
        public var reference: String
        /// UNG 0038, the message type the group carries.
        public var type: String
        /// UNG S006 components joined by ':'.
        public var sender: String
        /// UNG S007 components joined by ':'.
        public var recipient: String
        /// True when neither the group nor any of its messages has findings.
        public var valid: Bool
        /// The group's messages.
        public var messages: [Message]

        /// The JSON form of a group report.
        public init(_ g: GroupReport) {
            reference = g.reference
            type = g.groupIdentifier
            sender = g.sender.joined(separator: ":")
            recipient = g.recipient.joined(separator: ":")
            valid = g.isAccepted
            messages = g.messages.map(Message.init)
        }
    }

    /// A message (UNH..UNT).
    public struct Message: Codable, Sendable, Hashable {
        /// UNH 0062.
        public var reference: String
        /// UNH 0065, e.g. "CUSCAR".
        public var type: String
        /// Segments from UNH to UNT inclusive, as received.
        public var segments: Int
        /// True when nothing in the message was found wrong.
        public var valid: Bool

        /// The JSON form of a message report.
        public init(_ m: MessageReport) {
            reference = m.reference
            type = m.type
            segments = m.segmentCount
            valid = m.isAccepted
        }
    }

    /// A finding: its 0085 code and name, level, where it is, and why.
    public struct Finding: Codable, Sendable, Hashable {
        /// ISO 9735 0085 syntax error code.
        public var code: Int
        /// The code list's name of the code.
        public var name: String
        /// interchange, group, message, segment or element: where CONTRL reports it.
        public var level: String
        /// Segment number in the file, from 1.
        public var segment: Int
        /// Segment tag; empty when unreadable.
        public var tag: String
        /// Byte offset in the file of the segment or value.
        public var byteOffset: Int
        /// Data element position, the tag counting as 1 (CONTRL 0098); 0 for the whole segment.
        public var element: Int
        /// Component position from 1 (CONTRL 0104); 0 when not applicable.
        public var component: Int
        /// Occurrence of a repeating element from 1 (CONTRL 0136); 0 when not applicable.
        public var repetition: Int
        /// Segment position in its message, UNH = 1 (CONTRL 0096); 0 outside a message.
        public var positionInMessage: Int
        /// The reason in plain words.
        public var reason: String
        /// UNB 0020 of the interchange the finding belongs to.
        public var interchange: String
        /// UNG 0048 of its group, when in one.
        public var group: String?
        /// UNH 0062 of its message, when in one.
        public var message: String?

        /// The JSON form of a located finding.
        public init(_ f: LocatedFinding) {
            let d = f.diagnostic, l = d.location
            code = d.code.rawValue
            name = d.code.name
            level = d.level.rawValue
            segment = l.segmentNumber
            tag = l.segmentTag
            byteOffset = l.byteOffset
            element = l.elementPosition
            component = l.componentPosition
            repetition = l.repetition
            positionInMessage = l.segmentPositionInMessage
            reason = d.reason
            interchange = f.interchange
            group = f.group
            message = f.message
        }
    }

    /// The document as pretty-printed JSON with sorted keys and a final line break.
    public func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, numbers and booleans cannot fail.
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: JSONText.prettyPrinted(data), as: UTF8.self)
    }
}
