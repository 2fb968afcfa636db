/// The exit status of a gateway command, as scripts and schedulers read it.
public enum CommandStatus: Int32, Sendable, Comparable {
    /// Everything checked was valid, or the command did its job.
    case success = 0
    /// The command ran, but at least one input was found invalid.
    case invalid = 1
    /// Usage or I/O error: an input could not be read, or an output could not be made.
    case failure = 2

    /// Orders statuses by severity, so a run over many files reports the worst.
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
