import Foundation
import Jobs

/// `gateway check-config`: loads a configuration file and either lists every mistake with its line,
/// or summarizes what the gateway would run, so operators check a change before the service sees it.
public enum ConfigurationCheck {
    /// The environment variable naming the configuration file when `--config` is not given.
    public static let environmentVariable = "GATEWAY_CONFIG"
    /// The configuration file used when neither `--config` nor `$GATEWAY_CONFIG` names one.
    public static let defaultPath = "spool/gateway.toml"

    /// The path to load: `--config`, else `$GATEWAY_CONFIG` (when set and not empty), else the default.
    public static func path(option: String?, environment: [String: String]) -> String {
        if let option { return option }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty { return fromEnvironment }
        return defaultPath
    }

    /// Checks the file at `path`: mistakes as `PATH:LINE: key: message` (exit 1), else a summary with
    /// each schedule's next run after `now` (exit 0); an unreadable file is reported on `err` (exit 2).
    /// Trust anchors and the signing identity, when configured, are loaded and judged as of `now` too
    /// (``TrustConfigurationCheck``): their mistakes fail the check, their warnings are printed after it.
    ///
    /// With `probe`, a valid configuration's SFTP directories are also tried (``probeRemote(_:)``): a
    /// directory that fails its probe makes the check fail (exit 1).
    public static func run(path: String, json: Bool, now: Date, probe: Bool = false, out: OutputSink,
                           err: OutputSink) -> CommandStatus {
        defer { out.flush(); err.flush() }
        let configuration: GatewayConfiguration
        do {
            configuration = try ConfigurationLoader.load(path: path)
        } catch let error as InputFileError {
            err.line(error.description)
            return .failure
        } catch let error as ConfigurationErrors {
            if json {
                out.write(render(Document(config: path, valid: false, errors: error.errors)))
            } else {
                for e in error.errors { out.line(e.formatted(path: path)) }
                let n = error.errors.count
                err.line("\(path): \(n) mistake\(n == 1 ? "" : "s")")
            }
            return .invalid
        } catch {
            err.line("\(path): \(error)")
            return .failure
        }
        var summary = Summary(configuration, now: now)
        let probes = probe ? probeRemote(configuration) : nil
        let probesFailed = probes?.contains { !$0.ok } == true
        func writeProbes() {
            guard let probes, !json else { return }
            if probes.isEmpty { out.line("probe: no partner directory is on an SFTP server") }
            for report in probes { out.line(probeLine(report)) }
            if probesFailed { err.line("\(path): \(probes.filter { !$0.ok }.count) SFTP probe(s) failed") }
        }
        // Hosted partners' public key files ([partner.hosted] authorized_keys): read here, not at load, so the
        // service never fails to start over a key file; sshd-config refuses the same mistakes.
        let hostedKeys = HostedKeysCheck(configuration)
        // Trust anchors and the signing identity: only configurations that have them see any of this, so the
        // output for the others stays as it was.
        let trustApplies = TrustConfigurationCheck.applies(to: configuration)
        guard trustApplies || !hostedKeys.mistakes.isEmpty else {
            if json {
                var document = Document(config: path, valid: !probesFailed, errors: [])
                document.summary = summary
                document.probes = probes
                out.write(render(document))
            } else {
                out.write(summary.text(path: path))
                writeProbes()
            }
            return probesFailed ? .invalid : .success
        }
        let trust = trustApplies ? TrustConfigurationCheck(configuration, now: now) : nil
        let index = lineIndex(path: path)
        func located(_ finding: TrustConfigurationCheck.Finding) -> ConfigurationError {
            ConfigurationError(key: finding.key, line: index?.line(for: finding.key), message: finding.message)
        }
        let mistakes = ((trust?.mistakes ?? []) + hostedKeys.mistakes).map(located)
        let warnings = (trust?.warnings ?? []).map(located)
        if let trust {
            summary.trust = trust.agencies
            summary.signing = trust.signing
        }
        if json {
            var document = Document(config: path, valid: mistakes.isEmpty && !probesFailed, errors: mistakes)
            document.warnings = warnings
            document.probes = probes
            if mistakes.isEmpty { document.summary = summary }
            out.write(render(document))
        } else {
            if mistakes.isEmpty { out.write(summary.text(path: path)) }
            writeProbes()
            for e in mistakes { out.line(e.formatted(path: path)) }
            for w in warnings { out.line(ConfigurationError(key: w.key, line: w.line, message: "warning: " + w.message).formatted(path: path)) }
            let n = mistakes.count, w = warnings.count
            if n > 0 {
                err.line("\(path): \(n) mistake\(n == 1 ? "" : "s")" + (w > 0 ? ", \(w) warning\(w == 1 ? "" : "s")" : ""))
            } else if w > 0 {
                err.line("\(path): \(w) warning\(w == 1 ? "" : "s")")
            }
        }
        return mistakes.isEmpty && !probesFailed ? .success : .invalid
    }

    /// Probes every distinct SFTP directory of the partners (SFTPProbe: connect, list, write a temporary file,
    /// rename it, read it back, try a rename onto an existing file, delete what it made).
    public static func probeRemote(_ configuration: GatewayConfiguration) -> [SFTPProbeReport] {
        var seen: Set<RemoteDirectory> = []
        var reports: [SFTPProbeReport] = []
        for partner in configuration.partners {
            for remote in [partner.remoteDrop, partner.remotePickup].compactMap({ $0 }) where seen.insert(remote).inserted {
                guard let endpoint = configuration.endpoints[remote.endpoint] else { continue }
                do {
                    reports.append(SFTPProbe.run(try endpoint.sftpEndpoint(), directory: remote.path))
                } catch {
                    reports.append(SFTPProbeReport(endpoint: remote.endpoint, directory: remote.path,
                                                   steps: [.init(name: "passphrase", ok: false, milliseconds: 0, error: error.message)],
                                                   renameReplacesExisting: nil, clockSkewSeconds: nil, ok: false))
                }
            }
        }
        return reports
    }

    /// One probe as a line: `probe sftp://E/dir: ok (connect 12 ms, ...; ...)` or the failed step and why.
    static func probeLine(_ report: SFTPProbeReport) -> String {
        let target = "probe \(RemoteDirectory(endpoint: report.endpoint, path: report.directory))"
        guard report.ok else {
            let failed = report.steps.first { !$0.ok }
            return "\(target): FAILED at \(failed?.name ?? "?"): \(failed?.error ?? "unknown error")"
        }
        var facts = [report.steps.map { "\($0.name) \($0.milliseconds) ms" }.joined(separator: ", ")]
        if let replaces = report.renameReplacesExisting {
            facts.append("rename onto an existing file: \(replaces ? "replaces it (deliveries check first)" : "refused")")
        }
        if let skew = report.clockSkewSeconds { facts.append(String(format: "server clock %+.1f s", skew)) }
        return "\(target): ok (\(facts.joined(separator: "; ")))"
    }

    /// The line index of the file just loaded, to put lines on what the trust check finds (it names keys only).
    private static func lineIndex(path: String) -> TOMLLineIndex? {
        var bytes: [UInt8] = []
        guard (try? ChunkedFile.forEachChunk(path: path, { bytes.append(contentsOf: $0) })) != nil,
              let text = String(validating: bytes, as: UTF8.self) else { return nil }
        return TOMLLineIndex(text)
    }

    /// What `--json` prints: the mistakes, or the summary when there are none.
    public struct Document: Codable, Sendable, Equatable {
        /// The file as named on the command line.
        public var config: String
        /// Whether it has no mistakes.
        public var valid: Bool
        /// Every mistake, in file order.
        public var errors: [ConfigurationError]
        /// What the gateway would run; absent when there are mistakes.
        public var summary: Summary?
        /// What works today but will not for long (a CA or the gateway's certificate about to expire, a stale
        /// CRL); present only when the configuration has trust tables or a signing identity.
        public var warnings: [ConfigurationError]?
        /// With `--probe`: what each SFTP directory's probe found.
        public var probes: [SFTPProbeReport]?
    }

    /// The configuration in brief, as an operator checks it after an edit.
    public struct Summary: Codable, Sendable, Equatable {
        /// One partner's line.
        public struct Partner: Codable, Sendable, Equatable {
            public var id: String
            public var role: String
            public var readiness: String
            /// The schedule's name, or its expression when written in place.
            public var schedule: String
            /// The next poll, ISO 8601 UTC; nil when the schedule never fires.
            public var next: String?
            /// Directories, relative to the spool root when inside it.
            public var drop: String
            public var pickup: String
            /// Its account on our own sshd ([partner.hosted] user); absent when it does not log in to us.
            public var hosted: String?
        }
        /// One named schedule's line.
        public struct Schedule: Codable, Sendable, Equatable {
            public var name: String
            public var expression: String
            public var next: String?
        }
        public var sender: String
        public var spool: String
        public var store: String
        /// Partner counts by role (`carrier`, `agency`, `terminal`).
        public var roles: [String: Int]
        public var partners: [Partner]
        public var schedules: [Schedule]
        /// One agency's CA as loaded (`[partner.trust]`).
        public struct Trust: Codable, Sendable, Equatable {
            public var agency: String
            /// How many CA certificates (roots and intermediates) and CRLs were loaded.
            public var certificates: Int
            public var crls: Int
            public var requireCRL: Bool
            /// The first CA certificate to expire, and when (ISO 8601 UTC).
            public var firstExpiry: String?
            public var firstExpiring: String?
            /// The earliest nextUpdate among its CRLs.
            public var crlNextUpdate: String?
            /// The partners whose signatures chain to it.
            public var partners: [String]
        }
        /// The gateway's own signing certificate (`[gateway] signing_certificate`).
        public struct Signing: Codable, Sendable, Equatable {
            public var subject: String
            public var issuer: String
            public var serial: String
            public var notAfter: String
            public var certificate: String
            public var key: String
        }
        /// Each agency's CA; absent when no partner has a `[partner.trust]` table and no signing identity is set.
        public var trust: [Trust]?
        /// The gateway's signing certificate, when configured and loaded.
        public var signing: Signing?

        /// Summarizes `configuration`, with next runs computed after `now`.
        public init(_ configuration: GatewayConfiguration, now: Date) {
            let root = configuration.spoolRoot
            sender = configuration.identity.description
            spool = root
            switch configuration.store {
            case .sqlite(let path): store = "sqlite " + Paths.display(path, relativeTo: root)
            case .postgres(let settings): store = "postgres " + settings.description + ", batches in " + Paths.display(settings.stateDirectory, relativeTo: root)
            }
            roles = Dictionary(configuration.partners.map { ($0.role.rawValue, 1) }, uniquingKeysWith: +)
            partners = configuration.partners.map { p in
                Partner(id: p.id, role: p.role.rawValue, readiness: p.readiness.name,
                        schedule: p.schedule.name ?? p.schedule.schedule.expression,
                        next: p.schedule.schedule.next(after: now).map(ConfigurationCheck.timestamp),
                        drop: Paths.display(p.dropDirectory, relativeTo: root),
                        pickup: Paths.display(p.pickupDirectory, relativeTo: root), hosted: p.hosted?.user)
            }
            schedules = configuration.schedules.map { s in
                Schedule(name: s.name, expression: s.schedule.expression,
                         next: s.schedule.next(after: now).map(ConfigurationCheck.timestamp))
            }
        }

        /// The text `check-config` prints.
        public func text(path: String) -> String {
            let counts = PartnerRole.allCases.compactMap { role -> String? in
                guard let n = roles[role.rawValue], n > 0 else { return nil }
                let noun = n == 1 ? role.rawValue : (role == .agency ? "agencies" : role.rawValue + "s")
                return "\(n) \(noun)"
            }
            var lines = ["\(path): OK: \(partners.count) partner\(partners.count == 1 ? "" : "s")"
                         + (counts.isEmpty ? "" : " (\(counts.joined(separator: ", ")))")
                         + ", \(schedules.count) schedule\(schedules.count == 1 ? "" : "s")"]
            lines.append("gateway   \(sender), spool \(spool)")
            lines.append("store     \(store)")
            let idWidth = partners.map(\.id.count).max() ?? 0
            let scheduleWidth = partners.map(\.schedule.count).max() ?? 0
            for p in partners {
                lines.append("partner   \(pad(p.id, idWidth))  \(pad(p.role, 8))  \(pad(p.readiness, 11))  "
                             + "\(pad(p.schedule, scheduleWidth))  next \(p.next ?? "never")  drop \(p.drop)  pickup \(p.pickup)"
                             + (p.hosted.map { "  hosted sftp user \($0)" } ?? ""))
            }
            let agencyWidth = trust?.map(\.agency.count).max() ?? 0
            for t in trust ?? [] {
                var line = "trust     \(pad(t.agency, agencyWidth))  \(t.certificates) CA certificate\(t.certificates == 1 ? "" : "s"), "
                    + "\(t.crls) CRL\(t.crls == 1 ? "" : "s")\(t.requireCRL ? " (required)" : "")"
                if let first = t.firstExpiry { line += "  first CA expiry \(first)" }
                if let next = t.crlNextUpdate { line += "  CRL next update \(next)" }
                line += "  for " + (t.partners.isEmpty ? "no partner" : t.partners.joined(separator: ", "))
                lines.append(line)
            }
            if let s = signing {
                lines.append("signing   \(s.subject)  serial \(s.serial)  until \(s.notAfter)  certificate \(s.certificate)  key \(s.key)")
            }
            let nameWidth = schedules.map(\.name.count).max() ?? 0
            let expressionWidth = schedules.map(\.expression.count).max() ?? 0
            for s in schedules {
                lines.append("schedule  \(pad(s.name, nameWidth))  \(pad(s.expression, expressionWidth))  next \(s.next ?? "never")")
            }
            return lines.joined(separator: "\n") + "\n"
        }

        private func pad(_ s: String, _ width: Int) -> String {
            s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
        }
    }

    /// A time as ISO 8601 in UTC to the second (`2025-01-31T09:30:00Z`), as schedules are evaluated.
    public static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ n: Int?) -> String { let v = n ?? 0; return v < 10 ? "0\(v)" : "\(v)" }
        return "\(c.year ?? 0)-\(two(c.month))-\(two(c.day))T\(two(c.hour)):\(two(c.minute)):\(two(c.second))Z"
    }

    /// Parses `--at`: ISO 8601 UTC (`2025-01-31T09:30:00Z`); nil when it is not one.
    public static func parseTimestamp(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count == 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"), b[19] == UInt8(ascii: "Z") else { return nil }
        func number(_ r: Range<Int>) -> Int? {
            guard b[r].allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            return Int(String(decoding: b[r], as: UTF8.self))
        }
        guard let y = number(0..<4), let mo = number(5..<7), let d = number(8..<10), let h = number(11..<13),
              let mi = number(14..<16), let s = number(17..<19) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s)
        guard components.isValidDate(in: calendar), let date = calendar.date(from: components) else { return nil }
        return date
    }

    private static func render(_ document: Document) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(document)) ?? Data("{}".utf8)
        return String(decoding: JSONText.prettyPrinted(data), as: UTF8.self) + "\n"
    }
}
