import EDIFACT
import Jobs
import TOMLKit

/// Reads and checks a configuration file, collecting every mistake with its key path and line.
public enum ConfigurationLoader {
    /// The `[store] path` used when none is given, relative to the spool root.
    public static let defaultStorePath = "state/gateway.sqlite"
    /// Where a PostgreSQL store's nodes keep the raw bytes of batches, relative to the spool root.
    public static let defaultStateDirectory = "state"
    /// Temporary-name globs a `rename` partner's uploads use while in progress, when none are given.
    public static let defaultIgnoredPatterns = ["*.tmp", "*.part", "*.filepart"]
    /// Marker suffixes of a `done-marker` partner, when none are given.
    public static let defaultMarkerSuffixes = [".ok", ".done"]
    /// The poll schedule of a partner that names none: every minute.
    public static let defaultSchedule = "* * * * *"

    /// Reads the file at `path` and checks it; relative paths in it resolve against the file's directory.
    ///
    /// Throws ``InputFileError`` when the file cannot be read, ``ConfigurationErrors`` when it has mistakes.
    /// Loads the configuration at `path` for a command; on failure prints every mistake (PATH:LINE: key:
    /// message) and "PATH: N mistakes; nothing was <verb>" on `err` and returns nil (the command exits 2).
    static func loadReporting(path: String, err: OutputSink, nothingWas verb: String) -> GatewayConfiguration? {
        do {
            return try load(path: path)
        } catch let error as ConfigurationErrors {
            for e in error.errors { err.line(e.formatted(path: path)) }
            let n = error.errors.count
            err.line("\(path): \(n) mistake\(n == 1 ? "" : "s"); nothing was \(verb)")
        } catch {
            err.line("\(error)")
        }
        return nil
    }

    public static func load(path: String, currentDirectory: String? = nil) throws -> GatewayConfiguration {
        var bytes: [UInt8] = []
        try ChunkedFile.forEachChunk(path: path) { bytes.append(contentsOf: $0) }
        let cwd = currentDirectory ?? Paths.currentDirectory()
        let absolute = Paths.normalize(path.hasPrefix("/") ? path : cwd + "/" + path)
        let directory = Paths.parent(of: absolute)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigurationErrors([ConfigurationError(key: "(file)", line: nil, message: "is not UTF-8 text, as TOML requires")])
        }
        return try parse(text, configurationDirectory: directory)
    }

    /// Checks a configuration text; `configurationDirectory` (absolute) anchors a relative `gateway.spool`.
    public static func parse(_ text: String, configurationDirectory: String) throws(ConfigurationErrors) -> GatewayConfiguration {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationErrors([ConfigurationError(key: "(syntax)", line: error.source.begin.line, message: error.description)])
        } catch {
            throw ConfigurationErrors([ConfigurationError(key: "(syntax)", line: nil, message: "\(error)")])
        }
        var checker = Checker(index: TOMLLineIndex(text))
        let root = Node(table)
        let configuration = checker.check(root, configurationDirectory: configurationDirectory)
        if let configuration, checker.errors.isEmpty { return configuration }
        throw ConfigurationErrors(checker.errors)
    }
}

/// A TOML value copied out of TOMLKit's C++ tree into plain Swift values, in one pass.
indirect enum Node {
    case table([(key: String, value: Node)])
    case array([Node])
    case string(String)
    case int(Int)
    case bool(Bool)
    case other(String)

    init(_ value: TOMLValueConvertible) {
        switch value.type {
        case .table:
            let t = value.table!
            self = .table(t.keys.map { ($0, Node(t[$0]!)) })
        case .array: self = .array(value.array!.map { Node($0) })
        case .string: self = .string(value.string!)
        case .int: self = .int(value.int!)
        case .bool: self = .bool(value.bool!)
        default: self = .other(value.type.description)
        }
    }

    /// The TOML type's name for "wrong type" messages.
    var typeName: String {
        switch self {
        case .table: "table"
        case .array: "array"
        case .string: "string"
        case .int: "integer"
        case .bool: "boolean"
        case .other(let name): name
        }
    }
}

/// Walks the tree, checking each table, and collects every mistake rather than stopping at the first.
struct Checker {
    let index: TOMLLineIndex
    var errors: [ConfigurationError] = []

    /// What cross-partner checks need, recorded for every partner even when its other keys have mistakes.
    struct PartnerFacts {
        var path: String
        var id: String?
        var identities: [EDIFACTIdentity] = []
        var drop: String?
        var pickup: String?
        /// It has a `[partner.trust]` table (an agency's CA).
        var hasTrust = false
        /// Its `[partner.signature] trust` entries, with their key paths.
        var signatureTrust: [(path: String, value: String)] = []
        /// Its `[partner.signature] sign_outbound`.
        var signsOutbound = false
    }
    var facts: [PartnerFacts] = []
    /// `[[endpoint]]` tables by name, read before the partners that refer to them.
    var endpoints: [String: RemoteEndpoint] = [:]
    /// Every `[partner.hosted]` table's account and chroot, for ``crossCheckHosted(stateDirectory:)``.
    var hostedFacts: [HostedFacts] = []
    /// Every key under [schedules], valid or not, so a partner naming a broken schedule is not also "unknown".
    var scheduleNames: [String] = []

    init(index: TOMLLineIndex) { self.index = index }

    mutating func fail(_ key: String, _ message: String) {
        errors.append(ConfigurationError(key: key, line: index.line(for: key), message: message))
    }

    /// One table being read: hands out its keys and, at the end, reports the keys nobody asked for.
    struct Table {
        let path: String
        let entries: [(key: String, value: Node)]
        var known: [String] = []

        func keyPath(_ key: String) -> String { KeyPath.join(path, key) }
        func value(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
    }

    /// Starts reading `node` at `path` as a table; nil (with an error) when it is not one.
    mutating func table(_ node: Node, at path: String) -> Table? {
        guard case .table(let entries) = node else {
            fail(path, "must be a table, not a \(node.typeName)")
            return nil
        }
        return Table(path: path, entries: entries)
    }

    /// Reports the keys of `table` that are not among `known`, suggesting the nearest known key.
    mutating func finish(_ table: Table) {
        for (key, _) in table.entries where !table.known.contains(key) {
            var message = "unknown key '\(key)'"
            if let near = table.known.min(by: { editDistance($0, key) < editDistance($1, key) }),
               editDistance(near, key) <= max(2, key.count / 3) {
                message += "; did you mean '\(near)'?"
            } else {
                message += "; known keys here: \(table.known.sorted().joined(separator: ", "))"
            }
            fail(table.keyPath(key), message)
        }
    }

    mutating func string(_ t: inout Table, _ key: String, required: Bool = false) -> String? {
        t.known.append(key)
        guard let node = t.value(key) else {
            if required { fail(t.keyPath(key), "missing; this key is required") }
            return nil
        }
        guard case .string(let s) = node else {
            fail(t.keyPath(key), "must be a string, not a \(node.typeName)")
            return nil
        }
        return s
    }

    mutating func int(_ t: inout Table, _ key: String, minimum: Int) -> Int? {
        t.known.append(key)
        guard let node = t.value(key) else { return nil }
        guard case .int(let n) = node else {
            fail(t.keyPath(key), "must be an integer, not a \(node.typeName)")
            return nil
        }
        guard n >= minimum else {
            fail(t.keyPath(key), "must be at least \(minimum), not \(n)")
            return nil
        }
        return n
    }

    mutating func bool(_ t: inout Table, _ key: String) -> Bool? {
        t.known.append(key)
        guard let node = t.value(key) else { return nil }
        guard case .bool(let b) = node else {
            fail(t.keyPath(key), "must be true or false, not a \(node.typeName)")
            return nil
        }
        return b
    }

    /// An array of strings; each element's path is `key[n]`, counted from 1.
    mutating func strings(_ t: inout Table, _ key: String) -> [(path: String, value: String)]? {
        t.known.append(key)
        guard let node = t.value(key) else { return nil }
        guard case .array(let items) = node else {
            fail(t.keyPath(key), "must be an array of strings, not a \(node.typeName)")
            return nil
        }
        var out: [(String, String)] = []
        for (i, item) in items.enumerated() {
            let path = t.keyPath(key) + "[\(i + 1)]"
            guard case .string(let s) = item else {
                fail(path, "must be a string, not a \(item.typeName)")
                continue
            }
            out.append((path, s))
        }
        return out
    }

    /// A string that must be one of `choices`.
    mutating func choice<E: RawRepresentable & CaseIterable>(_ t: inout Table, _ key: String, _ type: E.Type,
                                                              required: Bool = false) -> E? where E.RawValue == String {
        guard let s = string(&t, key, required: required) else { return nil }
        guard let value = E(rawValue: s) else {
            fail(t.keyPath(key), "'\(s)' is not one of: \(E.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return value
    }

    // MARK: The file

    mutating func check(_ root: Node, configurationDirectory: String) -> GatewayConfiguration? {
        guard var top = table(root, at: "") else { return nil }

        // [gateway]
        top.known.append("gateway")
        var identity: EDIFACTIdentity?
        var spoolRoot = configurationDirectory
        var signingKey: String?, signingCertificate: String?
        var warningDays = 30
        var maxDocumentBytes = InMemoryLimits.documentBytes
        if let node = top.value("gateway") {
            if var g = table(node, at: "gateway") {
                if let id = string(&g, "sender_id", required: true) {
                    checkIdentityPart(id, max: 35, at: g.keyPath("sender_id"), what: "sender_id")
                    identity = EDIFACTIdentity(id: id)
                }
                if let q = string(&g, "sender_qualifier") {
                    checkIdentityPart(q, max: 4, at: g.keyPath("sender_qualifier"), what: "sender_qualifier")
                    identity?.qualifier = q
                }
                signingKey = string(&g, "signing_key")
                signingCertificate = string(&g, "signing_certificate")
                if (signingKey == nil) != (signingCertificate == nil) {
                    fail(g.keyPath(signingKey == nil ? "signing_key" : "signing_certificate"),
                         "is missing: signing_key and signing_certificate go together")
                }
                if let days = int(&g, "certificate_warning_days", minimum: 0) { warningDays = days }
                if let mib = int(&g, "max_document_mib", minimum: 1) { maxDocumentBytes = Int64(mib) << 20 }
                if let spool = string(&g, "spool") {
                    if let problem = Paths.problem(with: spool, escapeAllowed: true) {
                        fail(g.keyPath("spool"), problem)
                    } else {
                        spoolRoot = Paths.resolve(spool, against: configurationDirectory)
                    }
                }
                finish(g)
            }
        } else {
            fail("gateway", "missing table [gateway] (our sender_id, and the spool root)")
        }

        // [store]
        top.known.append("store")
        var store: StoreConfiguration? = .sqlite(path: Paths.resolve(ConfigurationLoader.defaultStorePath, against: spoolRoot))
        if let node = top.value("store"), var s = table(node, at: "store") {
            let kind = string(&s, "kind") ?? "sqlite"
            let path = string(&s, "path")
            switch kind {
            case "sqlite":
                for key in ["host", "port", "database", "user", "password_file", "password_env", "tls", "tls_ca_file",
                            "connect_timeout_seconds", "state_directory"] where s.value(key) != nil {
                    _ = string(&s, key)
                    fail(s.keyPath(key), "only applies to kind = \"postgres\"")
                }
                if let path {
                    if let problem = Paths.problem(with: path, escapeAllowed: false) {
                        fail(s.keyPath("path"), problem)
                    } else {
                        store = .sqlite(path: Paths.resolve(path, against: spoolRoot))
                    }
                }
            case "postgres":
                if path != nil { fail(s.keyPath("path"), "only applies to kind = \"sqlite\"; a PostgreSQL store is named by host, port and database") }
                store = postgres(&s, spoolRoot: spoolRoot)
            default:
                fail(s.keyPath("kind"), "'\(kind)' is not one of: sqlite, postgres")
                store = nil
            }
            finish(s)
        }

        // [schedules]
        top.known.append("schedules")
        var schedules: [NamedSchedule] = []
        if let node = top.value("schedules"), var s = table(node, at: "schedules") {
            scheduleNames = s.entries.map(\.key)
            for (name, _) in s.entries {
                if let text = string(&s, name) {
                    do {
                        schedules.append(NamedSchedule(name: name, schedule: try CronSchedule(parsing: text)))
                    } catch let error as CronSchedule.ParseError {
                        fail(s.keyPath(name), "bad cron expression: \(error)")
                    } catch {
                        fail(s.keyPath(name), "bad cron expression: \(error)")
                    }
                }
            }
            // Keep file order, so summaries read like the file.
            schedules.sort { (index.line(for: s.keyPath($0.name)) ?? 0) < (index.line(for: s.keyPath($1.name)) ?? 0) }
        }

        // [metrics]
        top.known.append("metrics")
        var metrics = MetricsConfiguration()
        if let node = top.value("metrics"), var m = table(node, at: "metrics") {
            if let text = string(&m, "listen") {
                if text.isEmpty {
                    metrics.listen = nil
                } else {
                    do {
                        metrics.listen = try ListenAddress(parsing: text)
                    } catch {
                        fail(m.keyPath("listen"), error.message + "; \"\" turns metrics off")
                    }
                }
            }
            finish(m)
        }

        // [run]
        top.known.append("run")
        var run = RunSettings()
        if let node = top.value("run"), var r = table(node, at: "run") {
            if let n = int(&r, "idle_poll_seconds", minimum: 1) { run.idlePollSeconds = n }
            if let n = int(&r, "shutdown_grace_seconds", minimum: 1) { run.shutdownGraceSeconds = n }
            finish(r)
        }

        // [verdict]
        top.known.append("verdict")
        var verdict = VerdictSettings()
        if let node = top.value("verdict"), var v = table(node, at: "verdict") {
            if let n = int(&v, "silence_seconds", minimum: 0) { verdict.silenceSeconds = n }
            if let n = int(&v, "release_valid_days", minimum: 1) { verdict.releaseValidDays = n }
            if let n = int(&v, "unknown_object_wait_seconds", minimum: 0) { verdict.unknownObjectWaitSeconds = n }
            finish(v)
        }

        // [[endpoint]]: SFTP servers partners' directories may live on.
        top.known.append("endpoint")
        if let node = top.value("endpoint") { endpoints = self.endpoints(node, spoolRoot: spoolRoot) }

        // [[partner]]
        top.known.append("partner")
        var partners: [(path: String, config: PartnerConfiguration)] = []
        if let node = top.value("partner") {
            if case .array(let items) = node {
                for (i, item) in items.enumerated() {
                    let path = "partner[\(i + 1)]"
                    if let p = partner(item, at: path, spoolRoot: spoolRoot, schedules: schedules) {
                        partners.append((path, p))
                    }
                }
            } else {
                fail("partner", "must be an array of tables, written [[partner]], not a \(node.typeName)")
            }
        }
        var signing: SigningIdentity?
        if let signingKey, let signingCertificate {
            for (key, text) in [("signing_key", signingKey), ("signing_certificate", signingCertificate)] {
                if let problem = Paths.problem(with: text, escapeAllowed: true) { fail("gateway." + key, problem) }
            }
            signing = SigningIdentity(key: Paths.resolve(signingKey, against: spoolRoot),
                                      certificate: Paths.resolve(signingCertificate, against: spoolRoot))
        }
        crossCheck()
        crossCheckHosted(stateDirectory: store.map { switch $0 {
            case .sqlite(let path): Paths.parent(of: path)
            case .postgres(let settings): settings.stateDirectory
        } })
        // Half an identity is already reported at [gateway]; sign_outbound is not blamed for it as well.
        crossCheckSignatures(hasSigningIdentity: signingKey != nil || signingCertificate != nil)
        finish(top)

        guard let identity, let store else { return nil }
        var configuration = GatewayConfiguration(identity: identity, spoolRoot: spoolRoot, store: store,
                                                 schedules: schedules, partners: partners.map(\.config),
                                                 metrics: metrics, run: run, signing: signing,
                                                 certificateWarningDays: warningDays)
        configuration.maxDocumentBytes = maxDocumentBytes
        configuration.endpoints = endpoints
        configuration.verdict = verdict
        return configuration
    }

    mutating func checkIdentityPart(_ value: String, max: Int, at path: String, what: String) {
        if value.isEmpty {
            fail(path, "must not be empty")
        } else if value.count > max {
            fail(path, "'\(value)' is longer than \(max) characters, the most UNB allows")
        } else if value.contains(where: { "+:'?*".contains($0) }) {
            fail(path, "'\(value)' contains an EDIFACT service character (+ : ' ? *)")
        }
    }

    // MARK: [store] kind = "postgres"

    /// The PostgreSQL connection settings; a password written here is a mistake (it belongs in a file or the
    /// environment, never in the configuration or on a command line).
    mutating func postgres(_ s: inout Table, spoolRoot: String) -> StoreConfiguration? {
        if s.value("password") != nil {
            _ = string(&s, "password")
            fail(s.keyPath("password"), "a password is never written in the configuration: use password_file or password_env")
        }
        let host = string(&s, "host") ?? "127.0.0.1"
        let port = int(&s, "port", minimum: 1) ?? 5432
        if port > 65535 { fail(s.keyPath("port"), "must be at most 65535, not \(port)") }
        let database = string(&s, "database", required: true)
        let user = string(&s, "user", required: true)
        var passwordFile = string(&s, "password_file")
        if let file = passwordFile {
            if let problem = Paths.problem(with: file, escapeAllowed: true) { fail(s.keyPath("password_file"), problem) }
            passwordFile = Paths.resolve(file, against: spoolRoot)
        }
        let passwordEnv = string(&s, "password_env")
        if passwordFile != nil && passwordEnv != nil { fail(s.keyPath("password_env"), "give password_file or password_env, not both") }
        let tls = choice(&s, "tls", PostgresSettings.TLS.self) ?? .disable
        var caFile = string(&s, "tls_ca_file")
        if let file = caFile {
            if let problem = Paths.problem(with: file, escapeAllowed: true) { fail(s.keyPath("tls_ca_file"), problem) }
            if tls != .require { fail(s.keyPath("tls_ca_file"), "only applies with tls = \"require\"") }
            caFile = Paths.resolve(file, against: spoolRoot)
        }
        let timeout = int(&s, "connect_timeout_seconds", minimum: 1) ?? 10
        var state = Paths.resolve(ConfigurationLoader.defaultStateDirectory, against: spoolRoot)
        if let dir = string(&s, "state_directory") {
            if let problem = Paths.problem(with: dir, escapeAllowed: true) { fail(s.keyPath("state_directory"), problem) }
            state = Paths.resolve(dir, against: spoolRoot)
        }
        guard let database, let user else { return nil }
        return .postgres(PostgresSettings(host: host, port: port, database: database, user: user, passwordFile: passwordFile,
                                          passwordEnv: passwordEnv, tls: tls, tlsCAFile: caFile, connectTimeoutSeconds: timeout,
                                          stateDirectory: state))
    }

    // MARK: [[partner]]

    mutating func partner(_ node: Node, at path: String, spoolRoot: String, schedules: [NamedSchedule]) -> PartnerConfiguration? {
        guard var t = table(node, at: path) else { return nil }
        let id = string(&t, "id", required: true)
        if let id, !id.isEmpty, !id.utf8.allSatisfy({ KeyPath.isBareKeyByte($0) || $0 == UInt8(ascii: ".") }) || id.hasPrefix(".") {
            fail(t.keyPath("id"), "'\(id)' may use only letters, digits, '_', '-' and '.' (it names directories and metrics)")
        } else if id?.isEmpty == true {
            fail(t.keyPath("id"), "must not be empty")
        }
        let role = choice(&t, "role", PartnerRole.self, required: true)
        let name = string(&t, "name")

        var identities: [EDIFACTIdentity] = []
        if let items = strings(&t, "identities") {
            if items.isEmpty { fail(t.keyPath("identities"), "is empty; leave it out to use the partner id") }
            for (itemPath, text) in items {
                let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                guard parts.count <= 2 else { fail(itemPath, "'\(text)' is not ID or ID:QUALIFIER"); continue }
                let before = errors.count
                checkIdentityPart(parts[0], max: 35, at: itemPath, what: "identification")
                if parts.count == 2 { checkIdentityPart(parts[1], max: 4, at: itemPath, what: "qualifier") }
                if errors.count == before {
                    identities.append(EDIFACTIdentity(id: parts[0], qualifier: parts.count == 2 ? parts[1] : nil))
                }
            }
        } else if let id {
            identities = [EDIFACTIdentity(id: id)]
        }

        let (drop, remoteDrop) = location(&t, "drop", spoolRoot: spoolRoot)
        let (pickup, remotePickup) = location(&t, "pickup", spoolRoot: spoolRoot)
        facts.append(PartnerFacts(path: path, id: id, identities: identities, drop: drop, pickup: pickup))
        for (key, remote) in [("drop", remoteDrop), ("pickup", remotePickup)] {
            if let remote, endpoints[remote.endpoint] == nil {
                let known = endpoints.keys.sorted()
                fail(t.keyPath(key), "endpoint '\(remote.endpoint)' is not defined under [[endpoint]]"
                     + (known.isEmpty ? " (there are none)" : " (known: \(known.joined(separator: ", ")))"))
            }
        }
        t.known.append("remote")
        var remote = RemoteSettings()
        if let node = t.value("remote") {
            if remoteDrop == nil && remotePickup == nil {
                fail(t.keyPath("remote"), "applies only when drop or pickup is an sftp://ENDPOINT/path directory")
            }
            remote = remoteSettings(node, at: t.keyPath("remote")) ?? remote
        }
        if let drop, let pickup, drop == pickup {
            fail(t.keyPath("pickup"), "is the same directory as drop (\(drop)); receipts would be picked up as new files")
        }

        var patterns: [FilePattern] = []
        if let items = strings(&t, "patterns") {
            if items.isEmpty { fail(t.keyPath("patterns"), "is empty, so no file would ever be taken; leave it out to take every file") }
            for (itemPath, text) in items {
                do { patterns.append(try FilePattern(parsing: text)) } catch { fail(itemPath, "bad pattern: \(error)") }
            }
        } else {
            patterns = [try! FilePattern(parsing: "*")]
        }

        var readiness: ReadinessConvention? = .rename(ignoring: ConfigurationLoader.defaultIgnoredPatterns.map { try! FilePattern(parsing: $0) },
                                                      ignoreDotfiles: true)
        t.known.append("readiness")
        if let node = t.value("readiness") {
            readiness = self.readiness(node, at: t.keyPath("readiness"))
        }

        let deadline = int(&t, "incomplete_deadline_seconds", minimum: 1) ?? 900
        let charset = choice(&t, "charset", SyntaxIdentifier.self) ?? .UNOC

        var acknowledgement = AcknowledgementPolicy()
        t.known.append("acknowledgement")
        if let node = t.value("acknowledgement"), var a = table(node, at: t.keyPath("acknowledgement")) {
            if let c = choice(&a, "contrl", ContrlPolicy.self) { acknowledgement.contrl = c }
            if let p = choice(&a, "aperak", AperakPolicy.self) { acknowledgement.aperak = p }
            finish(a)
        }

        t.known.append("trust")
        var trust: TrustConfiguration?
        if let node = t.value("trust") {
            trust = self.trust(node, at: t.keyPath("trust"), spoolRoot: spoolRoot, role: role)
            // Even a table with mistakes: they are reported there, not again at every partner naming it.
            facts[facts.count - 1].hasTrust = true
        }
        t.known.append("signature")
        var signature = PartnerSignaturePolicy()
        if let node = t.value("signature"), let (policy, trustItems) = signaturePolicy(node, at: t.keyPath("signature")) {
            signature = policy
            facts[facts.count - 1].signatureTrust = trustItems
            facts[facts.count - 1].signsOutbound = policy.signOutbound
        }

        t.known.append("routing")
        var routing: RoutingRule?
        if let node = t.value("routing") { routing = self.routing(node, at: t.keyPath("routing"), agency: id, role: role) }

        let notices = choice(&t, "notices", NoticeFormat.self) ?? .edifact
        let before = errors.count
        let ports = locodes(&t, "ports")
        if let ports {
            if role != nil && role != .terminal { fail(t.keyPath("ports"), "applies to terminals only (an agency's ports go under [partner.routing])") }
            if ports.isEmpty && errors.count == before {
                fail(t.keyPath("ports"), "is empty, so the terminal would be told nothing; leave it out for every port")
            }
        }

        t.known.append("hosted")
        var hosted: HostedSFTP?
        if let node = t.value("hosted") {
            hosted = self.hosted(node, at: t.keyPath("hosted"), id: id, drop: drop, pickup: pickup, spoolRoot: spoolRoot)
        }

        var schedule: PartnerSchedule? = PartnerSchedule(name: nil, schedule: try! CronSchedule(parsing: ConfigurationLoader.defaultSchedule))
        if let text = string(&t, "schedule") {
            schedule = nil
            if let named = schedules.first(where: { $0.name == text }) {
                schedule = PartnerSchedule(name: named.name, schedule: named.schedule)
            } else if text.contains(" ") || text.hasPrefix("@") {
                do {
                    schedule = PartnerSchedule(name: nil, schedule: try CronSchedule(parsing: text))
                } catch {
                    fail(t.keyPath("schedule"), "bad cron expression: \(error)")
                }
            } else if scheduleNames.contains(text) {
                // The schedule itself is broken; that mistake is reported under [schedules].
            } else {
                let known = scheduleNames
                fail(t.keyPath("schedule"), "'\(text)' is not a schedule under [schedules]"
                     + (known.isEmpty ? " (there are none)" : " (known: \(known.joined(separator: ", ")))")
                     + " nor a cron expression")
            }
        }
        finish(t)

        guard let id, let role, let drop, let pickup, let readiness, let schedule else { return nil }
        var partner = PartnerConfiguration(id: id, role: role, name: name, identities: identities, dropDirectory: drop,
                                           pickupDirectory: pickup, patterns: patterns, readiness: readiness,
                                           incompleteDeadlineSeconds: deadline, characterSet: charset,
                                           acknowledgement: acknowledgement, schedule: schedule, trust: trust,
                                           signature: signature, remoteDrop: remoteDrop, remotePickup: remotePickup, remote: remote)
        partner.hosted = hosted
        partner.routing = routing
        partner.notices = notices
        partner.ports = ports
        return partner
    }

    /// A drop or pickup directory: local (resolved against the spool root) or `sftp://ENDPOINT/path`.
    /// A remote one is also returned as its URL text, which the cross-partner checks compare like a path.
    mutating func location(_ t: inout Table, _ key: String, spoolRoot: String) -> (String?, RemoteDirectory?) {
        if case .string(let text)? = t.value(key), text.hasPrefix("sftp:") {
            _ = string(&t, key, required: true)
            guard let remote = RemoteDirectory(url: text) else {
                fail(t.keyPath(key), "'\(text)' is not sftp://ENDPOINT/absolute/path (no '.', '..' or '//' in the path)")
                return (nil, nil)
            }
            return (remote.description, remote)
        }
        return (directory(&t, key, spoolRoot: spoolRoot), nil)
    }

    /// A required directory key, resolved against the spool root.
    mutating func directory(_ t: inout Table, _ key: String, spoolRoot: String) -> String? {
        guard let text = string(&t, key, required: true) else { return nil }
        if let problem = Paths.problem(with: text, escapeAllowed: false) {
            fail(t.keyPath(key), problem)
            return nil
        }
        return Paths.resolve(text, against: spoolRoot)
    }

    mutating func readiness(_ node: Node, at path: String) -> ReadinessConvention? {
        guard var r = table(node, at: path) else { return nil }
        let convention = string(&r, "convention", required: true)
        // Read every key (so none is reported unknown), then refuse the ones that do not apply.
        let ignore = strings(&r, "ignore")
        let dotfiles = bool(&r, "ignore_dotfiles")
        let markers = strings(&r, "markers")
        let minAge = int(&r, "min_age_seconds", minimum: 0)
        let polls = int(&r, "polls", minimum: 1)
        let applies: [String: String] = ["ignore": "rename", "ignore_dotfiles": "rename", "markers": "done-marker",
                                         "min_age_seconds": "stable", "polls": "stable"]
        var result: ReadinessConvention?
        switch convention {
        case "rename":
            var patterns: [FilePattern] = []
            for (itemPath, text) in ignore ?? ConfigurationLoader.defaultIgnoredPatterns.map({ ("", $0) }) {
                do { patterns.append(try FilePattern(parsing: text)) } catch { fail(itemPath, "bad pattern: \(error)") }
            }
            result = .rename(ignoring: patterns, ignoreDotfiles: dotfiles ?? true)
        case "done-marker":
            var suffixes: [String] = []
            for (itemPath, text) in markers ?? ConfigurationLoader.defaultMarkerSuffixes.map({ ("", $0) }) {
                if text.count < 2 || !text.hasPrefix(".") || text.contains("/") {
                    fail(itemPath, "'\(text)' is not a file-name suffix such as .ok")
                } else {
                    suffixes.append(text)
                }
            }
            if markers?.isEmpty == true { fail(r.keyPath("markers"), "is empty; leave it out for .ok and .done") }
            result = .doneMarker(suffixes: suffixes)
        case "stable":
            result = .stable(minimumAgeSeconds: minAge ?? 30, polls: polls ?? 2)
        case let other?:
            fail(r.keyPath("convention"), "'\(other)' is not one of: rename, done-marker, stable")
        case nil:
            break
        }
        if let convention, result != nil {
            for (key, owner) in applies.sorted(by: { $0.key < $1.key }) where owner != convention && r.value(key) != nil {
                fail(r.keyPath(key), "only applies to convention = \"\(owner)\", not \"\(convention)\"")
            }
        }
        finish(r)
        return result
    }

    /// Checks across partners: unique ids and identities, and no directory shared where it must not be.
    /// Uses what each partner's own keys gave, so a partner with other mistakes is still compared.
    mutating func crossCheck() {
        var ids: [String: String] = [:], identities: [EDIFACTIdentity: String] = [:]
        var drops: [String: String] = [:], pickups: [String: String] = [:]
        for p in facts {
            let path = p.path
            let name = p.id.map { "partner '\($0)'" } ?? path
            var duplicate = false
            if let id = p.id {
                if let first = ids[id] {
                    duplicate = true
                    fail(path + ".id", "duplicate partner id '\(id)'; the first is \(first)\(lineText(first + ".id"))")
                } else {
                    ids[id] = path
                }
            }
            // A duplicate's default identity (its id) would only repeat the duplicate-id mistake.
            for identity in p.identities where !duplicate {
                if let other = identities[identity] {
                    fail(path + ".identities", "identity '\(identity)' already belongs to \(other)")
                } else {
                    identities[identity] = name
                }
            }
            if let drop = p.drop {
                if let other = drops[drop] {
                    fail(path + ".drop", "\(drop) is already the drop directory of \(other); each partner needs its own")
                } else if let other = pickups[drop] {
                    fail(path + ".drop", "\(drop) is the pickup directory of \(other); files we write there would come back as input")
                }
                drops[drop] = drops[drop] ?? "\(name)\(lineText(path + ".drop"))"
            }
            if let pickup = p.pickup, pickup != p.drop {
                if let other = drops[pickup] {
                    fail(path + ".pickup", "\(pickup) is the drop directory of \(other); files we write there would come back as input")
                }
                pickups[pickup] = pickups[pickup] ?? "\(name)\(lineText(path + ".pickup"))"
            }
        }
    }

    func lineText(_ key: String) -> String { index.line(for: key).map { " (line \($0))" } ?? "" }
}

/// Levenshtein distance, for "did you mean" on unknown keys.
private func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.lowercased()), y = Array(b.lowercased())
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var row = Array(0...y.count)
    for i in 1...x.count {
        var previous = row[0]
        row[0] = i
        for j in 1...y.count {
            let current = row[j]
            row[j] = x[i - 1] == y[j - 1] ? previous : 1 + min(previous, row[j], row[j - 1])
            previous = current
        }
    }
    return row[y.count]
}
