import ArgumentParser
import EDIFACT
import Gateway

/// `gateway edifact`: offline tools for UN/EDIFACT files, with the same engine the gateway runs on pickup.
struct EDIFACTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edifact",
        abstract: "Check, list and acknowledge UN/EDIFACT files offline, as the gateway would on pickup.",
        discussion: """
            Exit status: 0 when every file is valid (or the command did its job), 1 when a file is \
            invalid, 2 on a usage error or when a file cannot be read.
            """,
        subcommands: [Validate.self, Parse.self, Contrl.self]
    )
}

/// The reading options every `edifact` subcommand shares.
struct ReadingOptions: ParsableArguments {
    @Flag(help: """
        Report a release character before a character that is not a service character as code 22. \
        By default it is taken literally, as real traffic needs.
        """)
    var strictRelease = false

    /// The validator settings these options select.
    var validation: ValidationOptions {
        var o = ValidationOptions()
        o.strictReleaseCharacter = strictRelease
        return o
    }
}

extension EDIFACTCommand {
    /// `gateway edifact validate FILE...`
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate EDIFACT files against ISO 9735 and the message directories.",
            discussion: """
                Each file is streamed in 64 KiB chunks, so memory stays flat however large it is. One line \
                per finding (segment, element, byte offset, ISO 9735 0085 code and reason), then one \
                summary line per file. A file that cannot be read is reported on standard error, and \
                the other files are still checked.
                """
        )

        @Argument(help: ArgumentHelp("The files to validate ('-' reads standard input).", valueName: "file"))
        var files: [String]

        @Flag(help: "Print one JSON document with every file's interchanges, messages and findings.")
        var json = false

        @OptionGroup var reading: ReadingOptions

        func validate() throws {
            if files.isEmpty { throw ValidationError("Give at least one file to validate.") }
        }

        func run() throws {
            try finish(EDIFACTFileValidation.run(files: files, json: json, options: reading.validation,
                                                 out: .standardOutput(), err: .standardError()))
        }
    }

    /// `gateway edifact parse FILE`
    struct Parse: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the segments and data elements of an EDIFACT file.",
            discussion: """
                Values are unescaped and decoded by the interchange's syntax identifier (output is UTF-8). \
                Element positions count the tag as 1, as findings and CONTRL do. Findings go to standard \
                error; the exit status is as for 'validate'.
                """
        )

        @Argument(help: ArgumentHelp("The file to list ('-' reads standard input).", valueName: "file"))
        var file: String

        @Flag(help: """
            Print JSON Lines, one segment per line: {"segment":N,"offset":B,"tag":"NAD","elements":[["CN"],...]}; \
            each element is an array of its components, a repeated element {"repeats":[[...],[...]]}.
            """)
        var json = false

        @OptionGroup var reading: ReadingOptions

        func run() throws {
            try finish(EDIFACTFileParse.run(file: file, json: json, options: reading.validation,
                                            out: .standardOutput(), err: .standardError()))
        }
    }

    /// `gateway edifact contrl FILE`
    struct Contrl: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the CONTRL receipt the gateway would send for each interchange of a file.",
            discussion: """
                The CONTRL is addressed back to the interchange's sender, in its syntax and delimiters, and \
                accepts or rejects it with ISO 9735 codes and positions. No CONTRL is sent in reply to a CONTRL: \
                for such a file nothing is printed and a note goes to standard error.
                """
        )

        @Argument(help: ArgumentHelp("The received file to acknowledge ('-' reads standard input).", valueName: "file"))
        var file: String

        @Option(help: ArgumentHelp("Our identity in the CONTRL's UNB, as ID or ID:QUALIFIER.", valueName: "id[:qualifier]"))
        var sender = EDIFACTContrlCommand.defaultSender.joined(separator: ":")

        @Option(help: ArgumentHelp("""
            Our interchange reference (UNB 0020, at most 14 characters). Default: 'C' followed by the \
            received interchange's reference, cut to 14 characters. Later interchanges of the same file get \
            their number appended.
            """, valueName: "ref"))
        var reference: String?

        @Option(help: ArgumentHelp("The CONTRL's date and time, as YYYYMMDDHHMM. Default: now, local time.", valueName: "yyyymmddhhmm"))
        var at: String?

        @Flag(help: "Put a line break after each segment terminator, for reading.")
        var newline = false

        @OptionGroup var reading: ReadingOptions

        func validate() throws {
            if case .failure(let problem) = EDIFACTContrlCommand.parseIdentity(sender) {
                throw ValidationError("Invalid --sender: \(problem)")
            }
            if let reference {
                if reference.isEmpty || reference.count > 14 {
                    throw ValidationError("Invalid --reference: '\(reference)' must be 1 to 14 characters (UNB 0020 is an..14).")
                }
            }
            if let at, case .failure(let problem) = EDIFACTContrlCommand.parseDateTime(at) {
                throw ValidationError("Invalid --at: \(problem)")
            }
        }

        func run() throws {
            let identity = (try? EDIFACTContrlCommand.parseIdentity(sender).get()) ?? EDIFACTContrlCommand.defaultSender
            let date = (try? at.map { try EDIFACTContrlCommand.parseDateTime($0).get() }) ?? EDIFACTContrlCommand.now()
            try finish(EDIFACTContrlCommand.run(file: file, sender: identity, reference: reference, at: date, newline: newline,
                                                options: reading.validation, out: .standardOutput(), err: .standardError()))
        }
    }
}
