import ArgumentParser
import Foundation
import Gateway

/// `gateway run --once`: one pickup → ledger → receipt cycle over every partner's drop directory.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Pick up every ready file once, ledger it, and write its receipt.",
        discussion: """
            With --once (required for now: the long-running scheduler is not built yet), polls each partner's \
            drop directory in configuration order, claims every complete file, stores it by hash, validates it, \
            records it in the ledger and writes a CONTRL into the partner's pickup directory; files left in the \
            work area by a crash are finished first. Prints one line per file and a summary. Exit status: 0 when \
            the run completed (rejected files included), 1 when a file could not be handled, 2 on a usage or \
            configuration error.
            """
    )

    @Flag(help: "Run every partner's pickup once and exit (for cron).")
    var once = false

    @Option(help: ArgumentHelp("""
        The configuration file. Default: $\(ConfigurationCheck.environmentVariable), else \
        \(ConfigurationCheck.defaultPath).
        """, valueName: "path"))
    var config: String?

    @Flag(help: "Print one JSON document with every file's outcome and the counts.")
    var json = false

    @Option(help: ArgumentHelp("""
        Log lines on standard error from this level up: trace, debug, info, notice, warning, error, critical. \
        Default: $\(LoggingSetup.environmentVariable), else warning with --once (the report says what \
        happened to each file) and info otherwise.
        """, valueName: "level"))
    var logLevel: String?

    func validate() throws {
        if !once { throw ValidationError("Missing --once: only `gateway run --once` is available for now") }
        if config?.isEmpty == true { throw ValidationError("Invalid --config: the path is empty") }
    }

    func run() throws {
        try LoggingSetup.bootstrap(option: logLevel, defaultLevel: once ? .warning : .info)
        let path = ConfigurationCheck.path(option: config, environment: ProcessInfo.processInfo.environment)
        let status = RunOnce.run(path: path, json: json, out: .standardOutput(), err: .standardError())
        if status != 0 { throw ExitCode(status) }
    }
}
