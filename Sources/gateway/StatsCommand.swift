import ArgumentParser
import Foundation
import Gateway

/// `gateway stats`: counts, volumes and processing times per partner and UTC day, from the ledger.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show, per partner and day, the files received, their outcomes, deliveries and processing times.",
        discussion: """
            One line per partner and UTC day with activity, by day then partner, and a total: files dropped \
            (an archive is one file; identical re-sends are not counted), archive members, bytes of the files, \
            the batches (files and members) accepted, rejected, quarantined, in conflict or pending (not judged \
            yet), deliveries made, given up (DLV FAILED: failed, quarantined or cancelled) and waiting to retry, \
            and processing time: seconds from the pickup of a file (or of the archive a member came in) to the \
            first time its process job succeeded or was quarantined, as the median, 95th percentile (nearest \
            rank) and maximum; the total's are over every batch of the window. Files and their outcomes count by \
            the day the file arrived, deliveries by the day they were made or given up, manifest filings (shown \
            when there are any, with the consignments they list) by the day they were filed. The window is \
            today and the \(StatsVerb.defaultDays - 1) days before unless --from or --to says otherwise. \
            A partner with no activity in the window is not an error: it says "no activity". \
            Exit status: 0 when shown (no activity included), 1 when the ledger cannot be read, 2 on a usage \
            error (such as a date that cannot be read) or when the configuration cannot be read or has mistakes.
            """
    )

    @Option(help: ArgumentHelp("""
        The first day counted, as a UTC date YYYY-MM-DD (the whole day) or an ISO 8601 time such as \
        2025-03-01T08:00:00Z. Default: \(StatsVerb.defaultDays - 1) days before the day of --to.
        """, valueName: "date"))
    var from: String?

    @Option(help: ArgumentHelp("""
        The last day counted, inclusive, as a UTC date YYYY-MM-DD or an ISO 8601 time. Default: today (UTC).
        """, valueName: "date"))
    var to: String?

    @Option(help: ArgumentHelp("Only this partner's activity.", valueName: "id"))
    var partner: String?

    @Flag(help: "Print one JSON document instead of a table.")
    var json = false

    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
        if partner?.isEmpty == true { throw ValidationError("Invalid --partner: the id is empty") }
        do {
            _ = try StatsVerb.window(from: from, to: to, now: Date())
        } catch let error as StatsVerb.UsageError {
            throw ValidationError(error.message)
        }
    }

    func run() throws {
        try finish(StatsVerb.run(
            configPath: ledger.path, from: from, to: to, partner: partner, now: Date(), json: json,
            out: .standardOutput(), err: .standardError()))
    }
}
