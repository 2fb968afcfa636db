import ArgumentParser
import Gateway

/// The `gateway` command: the operator's entry point. It parses arguments and calls the Gateway library.
@main
struct GatewayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Single Window Gateway: the trade single window's batch EDI gateway.",
        discussion: """
            Carriers, terminals and border agencies exchange trade documents through the single window \
            by dropping and picking up files (UN/EDIFACT or XML) over SFTP. The gateway picks up each \
            complete file, verifies its signature against the sending agency's trust anchors, validates \
            and parses it, stores it unchanged with its normalized content, routes each agency the \
            declaration it takes, answers every file with a receipt (CONTRL, APERAK), and merges the \
            agencies' release, inspect and hold verdicts into one release or one joint inspection per box.
            """,
        version: GatewayInfo.version,
        // Later groups (run, check-config, verify, ...) join this list.
        subcommands: [EDIFACTCommand.self, CheckConfigCommand.self, SSHDConfigCommand.self, VerifyCommand.self, RouteCommand.self, TraceCommand.self, VerdictCommand.self, RunCommand.self, DBCommand.self, StatusCommand.self, StatsCommand.self, JobsCommand.self, QuarantineCommand.self, ConflictsCommand.self, VersionCommand.self]
    )

    /// Runs the command; usage errors exit with status 2 (not ArgumentParser's 64), as the gateway documents.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                let standardError = OutputSink.standardError()
                standardError.line(fullMessage(for: error))
                Self.exit(withError: ExitCode(CommandStatus.failure.rawValue))
            }
            Self.exit(withError: error)
        }
    }
}

/// Ends a command with the status the library computed (0 needs no throw).
func finish(_ status: CommandStatus) throws {
    if status != .success { throw ExitCode(status.rawValue) }
}
