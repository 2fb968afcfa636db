/// The UN/EDIFACT and ISO 9735 service directories the gateway knows, as data (see `scripts/gen-directories.py`).
///
/// Holds CUSCAR, CUSRES, COREOR and APERAK of D.95B and D.96A, CONTRL of syntax versions 3 and 4, and
/// the service segments UNB UNG UNH UNT UNE UNZ UCI UCM UCS UCD UCF of syntax versions 3 and 4.
public enum Directory {
    /// The definition of a message by UNH S009 as written: ["CUSCAR", "D", "95B", "UN"] (an association code
    /// after the agency is allowed and ignored); CONTRL is ["CONTRL", "D", "3", "UN"] or ["CONTRL", "4", "1", "UN"].
    /// Nil when the message or its directory is not in the tables.
    public static func message(identifier: [String]) -> MessageDefinition? {
        let t = DirectoryData.tables
        return t.messageIndex(identifier).map { t.messages[$0] }
    }

    /// The identifiers of every message in the tables, e.g. ["CUSCAR", "D", "95B", "UN"].
    public static var messageIdentifiers: [[String]] { DirectoryData.tables.messages.map(\.identifier) }

    /// The layout of a service segment (UNB UNG UNH UNT UNE UNZ, and UCI UCM UCS UCD UCF of CONTRL) in a
    /// syntax version; versions 1 and 2 use the version 3 layouts (version 2's envelope is the same; version 1
    /// differs only in UNH S009, where 0052 was n..3 and 0054 conditional).
    /// Nil for another tag or an unknown version.
    public static func serviceSegment(_ tag: SegmentTag, syntaxVersion: Int) -> SegmentDefinition? {
        let t = DirectoryData.tables
        switch syntaxVersion {
        case 1...3: return t.service3Segments[tag]
        case 4: return t.service4Segments[tag]
        default: return nil
        }
    }
}
