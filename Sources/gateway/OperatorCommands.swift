import ArgumentParser
import Foundation
import Gateway

// The operator's read-side verbs: thin argument parsing over `JobsVerbs`, `StatusVerb`, `QuarantineVerbs`
// and `ConflictsVerb` in the Gateway library, which open the ledger, render and choose the exit status.

/// The option every operator verb shares: which configuration, and so which ledger, to read.
struct LedgerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("""
        The configuration file. Default: $\(ConfigurationCheck.environmentVariable), else \
        \(ConfigurationCheck.defaultPath).
        """, valueName: "path"))
    var config: String?

    func validate() throws {
        if config?.isEmpty == true { throw ValidationError("Invalid --config: the path is empty") }
    }

    /// The configuration path, chosen as `gateway run` chooses it.
    var path: String { ConfigurationCheck.path(option: config, environment: ProcessInfo.processInfo.environment) }
}

/// Ends an operator verb with the status the library computed (0 needs no throw).
func finish(_ status: OperatorStatus) throws {
    if status != .success { throw ExitCode(status.rawValue) }
}

/// The exit statuses an operator verb documents: what 0 and 1 mean for it, and the 2 they all share.
private func exitStatuses(_ success: String, _ refused: String) -> String {
    "Exit status: 0 \(success), 1 \(refused), 2 on a usage error or when the configuration cannot be read or has mistakes."
}

/// What a listing's exit statuses are.
private let listingExitStatuses = exitStatuses("when listed (nothing found included)", "when the ledger cannot be read")

/// What a group of verbs says about its verbs' statuses.
private let groupExitStatuses = exitStatuses(
    "when done (an empty listing included)", "when a job is not found, the verb refuses, or the ledger cannot be used")

/// What a rerun does, shared by `jobs rerun` and `quarantine release`.
private let rerunDiscussion = """
    The job runs again now, in this process, from the bytes stored when the file arrived (nothing is read \
    from the partner's drop): a process job judges its batch again with the current configuration and \
    builds its receipts; receipts already delivered are never delivered again (their names are fixed when \
    the file arrives, and the ledger keeps every delivery), and the command says so. Deliveries the job \
    asks for that were never made are made now. A pickup job is not rerun, nor a job that is running.
    """

/// `gateway jobs`: the ledger's jobs.
struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List the ledger's jobs, show one job's whole story, or rerun one.",
        discussion: groupExitStatuses,
        subcommands: [List.self, Show.self, Rerun.self]
    )

    /// `gateway jobs list`
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List jobs, newest first.",
            discussion: """
                One line per job: id, kind (pickup, process, deliver, ...), partner, state, attempts made of \
                those allowed, last change (UTC), batch, its file name, and the last error code. \
                \(listingExitStatuses)
                """
        )

        @Option(help: ArgumentHelp(
            "Only jobs in this state: \(JobsVerbs.stateNames.joined(separator: ", ")).", valueName: "state"))
        var state: String?

        @Option(help: ArgumentHelp("Only jobs for this partner id.", valueName: "partner"))
        var partner: String?

        @Option(help: ArgumentHelp("Only jobs of this kind, such as pickup, process or deliver.", valueName: "kind"))
        var kind: String?

        @Option(help: ArgumentHelp("List at most this many jobs.", valueName: "n"))
        var limit = 50

        @Flag(help: "Print one JSON document instead of a table.")
        var json = false

        @OptionGroup var ledger: LedgerOptions

        func validate() throws {
            if let state, !JobsVerbs.stateNames.contains(state) {
                throw ValidationError(
                    "Invalid --state '\(state)': the states are \(JobsVerbs.stateNames.joined(separator: ", "))")
            }
            if limit < 1 { throw ValidationError("Invalid --limit \(limit): give at least 1") }
            if partner?.isEmpty == true { throw ValidationError("Invalid --partner: the id is empty") }
            if kind?.isEmpty == true { throw ValidationError("Invalid --kind: the kind is empty") }
        }

        func run() throws {
            try finish(JobsVerbs.list(
                configPath: ledger.path, state: state, partner: partner, kind: kind, limit: limit, json: json,
                out: .standardOutput(), err: .standardError()))
        }
    }

    /// `gateway jobs show ID`
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one job's whole story.",
            discussion: """
                The job (state, attempts, times, error code and message, input and output), its batch (file, \
                size, SHA-256, where its raw bytes are kept, interchange reference, sender, state and reason, \
                claim), the archive it was unpacked from or the members it unpacked into, its conflict, every \
                signature verdict with its evidence (code, reasons, signer, agency, validation time, CRL; the \
                chain's PEM with --json), every state change in order, the receipts written and how many \
                identical copies arrived since. \
                Times are UTC. \(exitStatuses("when shown", "when there is no such job or the ledger cannot be read"))
                """
        )

        @Argument(help: ArgumentHelp("The job id, as `gateway jobs list` prints it.", valueName: "id"))
        var id: Int64

        @Flag(help: "Print one JSON document instead of text.")
        var json = false

        @OptionGroup var ledger: LedgerOptions

        func run() throws {
            try finish(JobsVerbs.show(
                configPath: ledger.path, jobId: id, json: json, out: .standardOutput(), err: .standardError()))
        }
    }

    /// `gateway jobs rerun ID`
    struct Rerun: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a finished job again from the stored bytes, and say what it did.",
            discussion: rerunDiscussion + " " + exitStatuses(
                "when the job ran (whatever it decided)", "when there is no such job or it is refused")
        )

        @Argument(help: ArgumentHelp("The job id, as `gateway jobs list` prints it.", valueName: "id"))
        var id: Int64

        @Flag(help: "Print one JSON document instead of text.")
        var json = false

        @OptionGroup var ledger: LedgerOptions

        func run() throws {
            try LoggingSetup.bootstrap(option: nil, defaultLevel: .warning)
            try finish(RerunVerb.run(configPath: ledger.path, jobId: id, release: false, json: json,
                                     out: .standardOutput(), err: .standardError()))
        }
    }
}

/// `gateway status`: the gateway at a glance, per partner.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show, per partner, what waits, what was done today and what needs an operator.",
        discussion: """
            One line per configured partner (even one with no jobs yet), then any partner with jobs that is \
            no longer configured: jobs waiting (queued, retrying or running), batches judged today, failed, \
            quarantined, the age of the oldest waiting job, and the files sitting in its drop directory now \
            (regular files not starting with a dot), so a pickup that stopped shows. "Today" is the UTC day, \
            whatever the local time zone. \(exitStatuses("when shown", "when the ledger cannot be read"))
            """
    )

    @Flag(help: "Print one JSON document instead of a table.")
    var json = false

    @Option(help: ArgumentHelp("Count today and ages as of this time instead of now, as YYYY-MM-DDTHH:MM:SSZ (UTC).",
                               valueName: "time"))
    var at: String?

    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
        if let at, ConfigurationCheck.parseTimestamp(at) == nil {
            throw ValidationError("Invalid --at: '\(at)' is not a UTC time as YYYY-MM-DDTHH:MM:SSZ")
        }
    }

    func run() throws {
        let now = at.flatMap(ConfigurationCheck.parseTimestamp) ?? Date()
        try finish(StatusVerb.run(configPath: ledger.path, now: now, json: json, out: .standardOutput(), err: .standardError()))
    }
}

/// `gateway quarantine`: jobs set aside on bad input, waiting for an operator.
struct QuarantineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "List quarantined jobs, release one (run it again), or discard one.",
        discussion: groupExitStatuses,
        subcommands: [List.self, Release.self, Discard.self]
    )

    /// `gateway quarantine list`
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List quarantined jobs, oldest first.",
            discussion: """
                One line per job: id, partner, kind, batch and file name, error code, since when (UTC) and \
                the reason. \(listingExitStatuses)
                """
        )

        @Option(help: ArgumentHelp("Only jobs for this partner id.", valueName: "partner"))
        var partner: String?

        @Flag(help: "Print one JSON document instead of a table.")
        var json = false

        @OptionGroup var ledger: LedgerOptions

        func validate() throws {
            if partner?.isEmpty == true { throw ValidationError("Invalid --partner: the id is empty") }
        }

        func run() throws {
            try finish(QuarantineVerbs.list(
                configPath: ledger.path, partner: partner, json: json, out: .standardOutput(), err: .standardError()))
        }
    }

    /// `gateway quarantine release ID`
    struct Release: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release a quarantined job: run it again now, after fixing its cause.",
            discussion: "Only a quarantined job is released (`gateway jobs rerun` takes any finished job). "
                + rerunDiscussion + " " + exitStatuses(
                    "when the job ran (whatever it decided)", "when there is no such job or it is not quarantined")
        )

        @Argument(help: ArgumentHelp("The quarantined job's id.", valueName: "id"))
        var id: Int64

        @Flag(help: "Print one JSON document instead of text.")
        var json = false

        @OptionGroup var ledger: LedgerOptions

        func run() throws {
            try LoggingSetup.bootstrap(option: nil, defaultLevel: .warning)
            try finish(RerunVerb.run(configPath: ledger.path, jobId: id, release: true, json: json,
                                     out: .standardOutput(), err: .standardError()))
        }
    }

    /// `gateway quarantine discard ID --reason TEXT`
    struct Discard: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give up a quarantined job for good, with the reason.",
            discussion: """
                The job becomes cancelled and the reason is kept in its history; its batch and raw bytes stay \
                in the ledger. A job that is not quarantined is refused and left as it is. \
                \(exitStatuses("when discarded", "when there is no such job, it is not quarantined, or the ledger cannot be written"))
                """
        )

        @Argument(help: ArgumentHelp("The quarantined job's id.", valueName: "id"))
        var id: Int64

        @Option(help: ArgumentHelp("Why it is discarded, for whoever reads its history later.", valueName: "text"))
        var reason: String

        @Flag(help: "Print one JSON document instead of text.")
        var json = false

        @OptionGroup var ledger: LedgerOptions

        func validate() throws {
            if reason.allSatisfy(\.isWhitespace) { throw ValidationError("Invalid --reason: say why the job is discarded") }
        }

        func run() throws {
            try finish(QuarantineVerbs.discard(
                configPath: ledger.path, jobId: id, reason: reason, now: Date(), json: json,
                out: .standardOutput(), err: .standardError()))
        }
    }
}

/// `gateway conflicts`: interchange references reused with different content.
struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts",
        abstract: "List interchange references reused with different content.",
        discussion: groupExitStatuses,
        subcommands: [List.self]
    )

    /// `gateway conflicts list`
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List open conflicts, oldest first.",
            discussion: """
                One line per conflict: id, partner, sender, interchange reference, the batch that used it \
                first, the batch that reused it (rejected with ISO 9735 code 26) and its job, and when it was \
                detected (UTC). \(listingExitStatuses)
                """
        )

        @Flag(help: "Include resolved conflicts, with their resolution.")
        var all = false

        @Flag(help: "Print one JSON document instead of a table.")
        var json = false

        @OptionGroup var ledger: LedgerOptions

        func run() throws {
            try finish(ConflictsVerb.list(
                configPath: ledger.path, includeResolved: all, json: json, out: .standardOutput(), err: .standardError()))
        }
    }
}
