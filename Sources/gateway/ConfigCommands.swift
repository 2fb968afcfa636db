import ArgumentParser
import Foundation
import Gateway

/// `gateway check-config`: check the configuration file before the service reads it.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check the configuration file and name the key and line of every mistake.",
        discussion: """
            Every mistake is printed as PATH:LINE: key: message (unknown keys, wrong types, missing keys, \
            duplicate partners, bad cron expressions or patterns, clashing directories), all in one run. \
            Every agency's trust anchors ([partner.trust]) and the gateway's signing key and certificate are \
            loaded as the pipeline loads them: an unreadable or non-CA certificate file, an unreadable or \
            badly signed CRL, an expired CA certificate or an unusable signing key is a mistake named by its \
            key and file; a CA or gateway certificate expiring within [gateway] certificate_warning_days, or a \
            CRL past its nextUpdate, is a warning (printed, not failing). \
            Without mistakes, prints the partners by role and the next run of every schedule (UTC). \
            Exit status: 0 when the file is valid, 1 when it has mistakes, 2 on a usage error or when \
            the file cannot be read.
            """
    )

    @Option(help: ArgumentHelp("""
        The configuration file. Default: $\(ConfigurationCheck.environmentVariable), else \
        \(ConfigurationCheck.defaultPath).
        """, valueName: "path"))
    var config: String?

    @Flag(help: "Print one JSON document (the mistakes, or the summary).")
    var json = false

    @Flag(help: ArgumentHelp("""
        Also connect to every partner directory on an SFTP server and try it: list, write a file under a \
        temporary name, rename it, read it back, rename onto an existing file, delete what it made; report \
        each step's time, whether rename replaces files, and the server's clock skew. A failing probe fails the check.
        """))
    var probe = false

    @Option(help: ArgumentHelp("Compute next runs after this time instead of now, as YYYY-MM-DDTHH:MM:SSZ (UTC).",
                               valueName: "time"))
    var at: String?

    func validate() throws {
        if let at, ConfigurationCheck.parseTimestamp(at) == nil {
            throw ValidationError("Invalid --at: '\(at)' is not a UTC time as YYYY-MM-DDTHH:MM:SSZ")
        }
        if config?.isEmpty == true { throw ValidationError("Invalid --config: the path is empty") }
    }

    func run() throws {
        let path = ConfigurationCheck.path(option: config, environment: ProcessInfo.processInfo.environment)
        let now = at.flatMap(ConfigurationCheck.parseTimestamp) ?? Date()
        try finish(ConfigurationCheck.run(path: path, json: json, now: now, probe: probe, out: .standardOutput(),
                                          err: .standardError()))
    }
}
