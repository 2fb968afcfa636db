import ArgumentParser
import Foundation
import Gateway

/// `gateway run`: the gateway's main job, as long-running services or once (for cron).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Pick up, judge and answer every partner's files: as a service, or once.",
        discussion: """
            Every file ends exactly once: stored by hash and ledgered, then judged (accepted, rejected, conflict, \
            identical replay, or quarantined with a stable code) and answered with a receipt in its partner's \
            pickup directory (CONTRL per interchange, APERAK for a file that could not be read); or left in the \
            drop for a later poll (incomplete); or retried (I/O errors). Files and jobs a crash left behind are \
            finished first.

            Without --once: runs until SIGTERM or SIGINT, polling each partner's drop on its schedule, running \
            due jobs as they come, and serving Prometheus metrics on [metrics] listen. On the signal it stops \
            polling, finishes the files and jobs in hand, and exits 0; logs go to standard error.

            With --once: polls every partner once, runs every due job until none is left, prints one line per \
            file and a summary, and exits: 0 when the run completed (rejected and quarantined files included), \
            1 when a file or a receipt could not be handled (it is retried later), 2 on a usage or \
            configuration error.

            Several nodes: with [store] kind = "postgres", gateway processes on several machines (or one) may \
            run on one spool and one database. One node at a time polls a drop directory and one sends the \
            terminals' notices; every node runs jobs, each job once. A node killed meanwhile leaves nothing \
            lost: its jobs are taken over, and what it had claimed from a drop is finished by the next poll.
            """
    )

    @Flag(help: "Run every partner's pickup and every due job once, then exit (for cron).")
    var once = false

    @Flag(help: ArgumentHelp("""
        With --once: poll only the partners whose schedule fired since their last poll (for a crontab that \
        runs every minute); without it every partner is polled.
        """))
    var dueOnly = false

    @Option(help: ArgumentHelp("""
        The configuration file. Default: $\(ConfigurationCheck.environmentVariable), else \
        \(ConfigurationCheck.defaultPath).
        """, valueName: "path"))
    var config: String?

    @Flag(help: "With --once: print one JSON document with every file's outcome and the counts.")
    var json = false

    @Option(help: ArgumentHelp("""
        Log lines on standard error from this level up: trace, debug, info, notice, warning, error, critical. \
        Default: $\(LoggingSetup.environmentVariable), else warning with --once (the report says what \
        happened to each file) and info otherwise.
        """, valueName: "level"))
    var logLevel: String?

    func validate() throws {
        if config?.isEmpty == true { throw ValidationError("Invalid --config: the path is empty") }
        if json && !once { throw ValidationError("--json goes with --once: the service logs, it does not report") }
        if dueOnly && !once { throw ValidationError("--due-only goes with --once: the service follows the schedules anyway") }
    }

    func run() throws {
        try LoggingSetup.bootstrap(option: logLevel, defaultLevel: once ? .warning : .info)
        let path = ConfigurationCheck.path(option: config, environment: ProcessInfo.processInfo.environment)
        let status = once
            ? RunOnce.run(path: path, json: json, dueOnly: dueOnly, out: .standardOutput(), err: .standardError())
            : GatewayService.runUntilStopped(path: path, err: .standardError())
        if status != 0 { throw ExitCode(status) }
    }
}
