/// A syntax identifier (UNB S001/0001): the character repertoire an interchange is written in.
public enum SyntaxIdentifier: String, Sendable, Hashable, CaseIterable, Codable {
    case UNOA, UNOB, UNOC, UNOD, UNOE, UNOF, UNOG, UNOH, UNOI, UNOJ, UNOK, UNOL, UNOW, UNOX, UNOY

    /// The ISO 8859 part this identifier's bytes decode as; nil for UNOA/UNOB (ISO 646) and UNOW/UNOX/UNOY.
    public var iso8859Part: Int? {
        switch self {
        case .UNOA, .UNOB, .UNOW, .UNOX, .UNOY: nil
        case .UNOC: 1
        case .UNOD: 2
        case .UNOE: 5
        case .UNOF: 7
        case .UNOG: 3
        case .UNOH: 4
        case .UNOI: 6
        case .UNOJ: 8
        case .UNOK: 9
        case .UNOL: 15
        }
    }

    /// True for the identifiers the syntax version 3 code list knows (UNOA..UNOF); the others are version 4 codes.
    public var isInSyntaxVersion3: Bool {
        switch self {
        case .UNOA, .UNOB, .UNOC, .UNOD, .UNOE, .UNOF: true
        default: false
        }
    }
}
