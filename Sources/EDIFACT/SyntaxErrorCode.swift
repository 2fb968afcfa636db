/// An ISO 9735 syntax error code (service code list 0085), as reported in CONTRL.
///
/// A struct with a growable set of named codes rather than a closed enum, so that a partner's
/// CONTRL carrying a code we do not name still round-trips (the swift-nio error-code habit).
public struct SyntaxErrorCode: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// 2: the syntax identifier or version in UNB is not supported.
    public static let syntaxVersionNotSupported = Self(rawValue: 2)
    /// 7: the interchange recipient is not the actual recipient.
    public static let recipientNotActualRecipient = Self(rawValue: 7)
    /// 12: a value violates its code list or format rules.
    public static let invalidValue = Self(rawValue: 12)
    /// 13: a mandatory segment, element, composite or component is missing.
    public static let missing = Self(rawValue: 13)
    /// 14: the value is not supported in this position.
    public static let valueNotSupportedInPosition = Self(rawValue: 14)
    /// 15: the segment or element is not supported in this position.
    public static let notSupportedInPosition = Self(rawValue: 15)
    /// 16: too many elements in a segment or components in a composite.
    public static let tooManyConstituents = Self(rawValue: 16)
    /// 18: an error not otherwise specified (truncated input, unreadable data).
    public static let unspecified = Self(rawValue: 18)
    /// 19: invalid decimal notation (syntax version 3 only).
    public static let invalidDecimalNotation = Self(rawValue: 19)
    /// 20: a character in UNA is not valid as a service character.
    public static let invalidServiceCharacterInUNA = Self(rawValue: 20)
    /// 21: a character outside the repertoire of the syntax identifier.
    public static let invalidCharacter = Self(rawValue: 21)
    /// 22: a service character used where it is not allowed (e.g. a release character misused).
    public static let invalidServiceCharacter = Self(rawValue: 22)
    /// 23: the interchange sender is unknown.
    public static let unknownSender = Self(rawValue: 23)
    /// 25: test indicator not supported.
    public static let testIndicatorNotSupported = Self(rawValue: 25)
    /// 26: duplicate interchange, group or message reference.
    public static let duplicate = Self(rawValue: 26)
    /// 28: header and trailer references do not match.
    public static let referencesDoNotMatch = Self(rawValue: 28)
    /// 29: a control count does not match the number of instances received.
    public static let controlCountMismatch = Self(rawValue: 29)
    /// 30: functional groups and messages mixed in one interchange.
    public static let groupsAndMessagesMixed = Self(rawValue: 30)
    /// 31: more than one message type in a functional group (syntax version 3).
    public static let moreThanOneMessageTypeInGroup = Self(rawValue: 31)
    /// 32: an interchange, group or message with no content.
    public static let lowerLevelEmpty = Self(rawValue: 32)
    /// 33: a segment outside any message or group.
    public static let invalidOccurrenceOutside = Self(rawValue: 33)
    /// 34: a nesting indicator in a segment tag where none is allowed.
    public static let nestingIndicatorNotAllowed = Self(rawValue: 34)
    /// 35: too many repetitions of a segment or data element.
    public static let tooManySegmentRepetitions = Self(rawValue: 35)
    /// 36: too many repetitions of a segment group.
    public static let tooManyGroupRepetitions = Self(rawValue: 36)
    /// 37: invalid type of characters: letters in a numeric element, digits in an alphabetic one.
    public static let invalidCharacterType = Self(rawValue: 37)
    /// 38: a decimal mark without a digit before it (syntax version 3).
    public static let missingDigitBeforeDecimal = Self(rawValue: 38)
    /// 39: a data element is too long.
    public static let tooLong = Self(rawValue: 39)
    /// 40: a data element is too short.
    public static let tooShort = Self(rawValue: 40)
    /// 45: trailing separator (syntax version 4).
    public static let trailingSeparator = Self(rawValue: 45)
    /// 46: character set not supported (syntax version 4).
    public static let characterSetNotSupported = Self(rawValue: 46)

    /// The code list's name of this code, in plain words.
    public var name: String {
        switch rawValue {
        case 1: "UNA not supported"
        case 2: "Syntax version or level not supported"
        case 7: "Interchange recipient not actual recipient"
        case 12: "Invalid value"
        case 13: "Missing"
        case 14: "Value not supported in this position"
        case 15: "Not supported in this position"
        case 16: "Too many constituents"
        case 17: "No agreement"
        case 18: "Unspecified error"
        case 19: "Invalid decimal notation"
        case 20: "Character invalid as service character"
        case 21: "Invalid character(s)"
        case 22: "Invalid service character(s)"
        case 23: "Unknown interchange sender"
        case 24: "Too old"
        case 25: "Test indicator not supported"
        case 26: "Duplicate detected"
        case 27: "Security function not supported"
        case 28: "References do not match"
        case 29: "Control count does not match number of instances received"
        case 30: "Groups and messages mixed"
        case 31: "More than one message type in group"
        case 32: "Lower level empty"
        case 33: "Invalid occurrence outside message, package or group"
        case 34: "Nesting indicator not allowed"
        case 35: "Too many data element or segment repetitions"
        case 36: "Too many segment group repetitions"
        case 37: "Invalid type of character(s)"
        case 38: "Missing digit in front of decimal sign"
        case 39: "Data element too long"
        case 40: "Data element too short"
        case 45: "Trailing separator"
        case 46: "Character set not supported"
        case 47: "Envelope functionality not supported"
        case 48: "Dependency condition violated"
        default: "Syntax error \(rawValue)"
        }
    }

    public var description: String { "\(rawValue)" }
}
