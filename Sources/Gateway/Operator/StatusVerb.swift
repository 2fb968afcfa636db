import Foundation


/// `gateway status`: per partner, what waits, what was done today, what needs an operator, and how many
/// files sit in its drop directory not yet picked up.
public enum StatusVerb {
    /// Prints one line per configured partner (in configuration order, even with no jobs), then any partner
    /// the ledger knows that is no longer configured. "Today" is the UTC day containing `now`.
    /// Exit status: 0, 1 when the ledger cannot be read, 2 on a configuration error.
    public static func run(configPath: String, now: Date, json: Bool, out: OutputSink, err: OutputSink) -> OperatorStatus {
        OperatorSession.with(path: configPath, out: out, err: err) { session in
            let dayStart = startOfUTCDay(now)
            let counts = try session.store?.status(startOfDay: dayStart) ?? []
            var byPartner = Dictionary(counts.map { ($0.partner, $0) }, uniquingKeysWith: { a, _ in a })
            var lines: [PartnerLine] = []
            for partner in session.configuration.partners {
                // A drop on an SFTP server is not listed here: status never opens connections.
                let drop = partner.remoteDrop == nil ? dropFiles(partner.dropDirectory, spoolRoot: session.configuration.spoolRoot)
                    : (count: nil, problem: nil)
                lines.append(PartnerLine(partner: partner.id, configured: true, status: byPartner.removeValue(forKey: partner.id),
                                         now: now, dropFiles: drop.count, dropProblem: drop.problem))
            }
            // Jobs of a partner removed from the configuration, or gateway-wide jobs (no partner), still need
            // watching; they come last, in the ledger's order.
            for status in counts where byPartner[status.partner] != nil {
                lines.append(PartnerLine(partner: status.partner, configured: false, status: status, now: now,
                                         dropFiles: nil, dropProblem: nil))
            }
            let document = Document(asOf: OperatorFormat.time(now), dayStart: OperatorFormat.time(dayStart), partners: lines)
            out.write(json ? OperatorFormat.json(document) + "\n" : document.text())
            return .success
        }
    }

    /// Midnight UTC of the day containing `date`.
    static func startOfUTCDay(_ date: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.startOfDay(for: date)
    }

    /// Regular, non-dot files in a drop directory, listed as the intake lists them (lstat, no symlinks);
    /// dotfiles are uploads in progress under most conventions, so they are not counted.
    static func dropFiles(_ directory: String, spoolRoot: String) -> (count: Int?, problem: String?) {
        do {
            let files = try DropDirectory.listRegularFiles(directory)
            return (files.keys.filter { !$0.hasPrefix(".") }.count, nil)
        } catch {
            return (nil, "\(Paths.display(directory, relativeTo: spoolRoot)): \(error.message)")
        }
    }

    /// What `status` prints, as JSON or as text.
    struct Document: Encodable {
        /// The time ages and "today" are computed against.
        var asOf: String
        /// Start of the UTC day "processed today" counts from.
        var dayStart: String
        var partners: [PartnerLine]

        /// The table, with drop directories that could not be listed named below it.
        func text() -> String {
            var lines = ["as of \(asOf); today is the UTC day from \(dayStart)"]
            if partners.isEmpty { return (lines + ["no partners configured and no jobs"]).joined(separator: "\n") + "\n" }
            let rows = partners.map { p in
                [p.configured ? p.partner : (p.partner.isEmpty ? "(no partner)" : p.partner + " (not configured)"),
                 String(p.waiting), String(p.processedToday), String(p.failed), String(p.quarantined),
                 p.oldestWaitingAgeSeconds.map { OperatorFormat.age(Double($0)) } ?? "-",
                 p.dropFiles.map(String.init) ?? (p.dropProblem == nil ? "-" : "?")]
            }
            lines += OperatorFormat.table(
                ["PARTNER", "WAITING", "TODAY", "FAILED", "QUARANTINED", "OLDEST WAITING", "IN DROP"], rows,
                alignments: [.left, .right, .right, .right, .right, .right, .right])
            // Below the table, so one long OS message does not stretch every row.
            for p in partners { if let problem = p.dropProblem { lines.append("\(p.partner): \(problem)") } }
            return lines.joined(separator: "\n") + "\n"
        }
    }

    /// One partner's counts.
    struct PartnerLine: Encodable {
        /// The partner id; "" for jobs that belong to no partner.
        var partner: String
        /// Whether the partner is in the configuration (jobs of removed partners are still shown).
        var configured: Bool
        /// Jobs queued, retrying or running.
        var waiting: Int
        /// Batches judged (process jobs that succeeded) since the start of the UTC day.
        var processedToday: Int
        var failed: Int
        var quarantined: Int
        /// Creation time of the oldest waiting job.
        @Nullable var oldestWaiting: String?
        @Nullable var oldestWaitingAgeSeconds: Int?
        /// Regular non-dot files in the drop directory now; null when it cannot be listed or is not configured.
        @Nullable var dropFiles: Int?
        /// Why the drop directory could not be listed (its path, relative to the spool root when inside it).
        @Nullable var dropProblem: String?

        init(partner: String, configured: Bool, status: PartnerStatus?, now: Date, dropFiles: Int?, dropProblem: String?) {
            self.partner = partner
            self.configured = configured
            waiting = status?.waiting ?? 0
            processedToday = status?.processedToday ?? 0
            failed = status?.failed ?? 0
            quarantined = status?.quarantined ?? 0
            oldestWaiting = status?.oldestWaiting.map(OperatorFormat.time)
            oldestWaitingAgeSeconds = status?.oldestWaiting.map { max(0, Int(now.timeIntervalSince($0))) }
            self.dropFiles = dropFiles
            self.dropProblem = dropProblem
        }
    }
}
