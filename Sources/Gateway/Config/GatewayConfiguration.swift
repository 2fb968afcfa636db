import EDIFACT
import Jobs

/// The whole gateway configuration, as loaded from one TOML file and checked (see `spool/gateway.toml`).
///
/// Every directory in it is absolute and lexically normalized, so comparisons (drop == pickup, shared
/// drops) and the services that use them never depend on the working directory.
public struct GatewayConfiguration: Sendable, Hashable {
    /// Our own identity in the UNB of every receipt and routed message (`[gateway]`).
    public var identity: EDIFACTIdentity
    /// The root of the gateway's working tree: relative directories resolve against it (`gateway.spool`).
    public var spoolRoot: String
    /// Where the ledger and the stored batches live (`[store]`).
    public var store: StoreConfiguration
    /// Named cron schedules partners refer to by name (`[schedules]`), in file order.
    public var schedules: [NamedSchedule]
    /// Everyone with a drop and a pickup directory (`[[partner]]`), in file order.
    public var partners: [PartnerConfiguration]
    /// Where `gateway run` serves its Prometheus metrics, if anywhere (`[metrics]`).
    public var metrics: MetricsConfiguration
    /// How `gateway run` paces its worker and drains on shutdown (`[run]`).
    public var run: RunSettings

    /// Creates a configuration from parts (tests and tools; files go through ``ConfigurationLoader``).
    /// The gateway's key and certificate for signing outbound files ([gateway] signing_key, signing_certificate).
    public var signing: SigningIdentity?
    /// `check-config` warns about CA and partner certificates that expire within this many days.
    public var certificateWarningDays: Int
    /// SFTP servers partners' directories may live on (`[[endpoint]]`), by name.
    public var endpoints: [String: RemoteEndpoint] = [:]
    /// The largest signed or XML document the process step reads whole into memory
    /// ([gateway] max_document_mib; `InMemoryLimits`).
    public var maxDocumentBytes: Int64 = InMemoryLimits.documentBytes
    /// How agencies' instructions are merged (`[verdict]`).
    public var verdict = VerdictSettings()

    public init(identity: EDIFACTIdentity, spoolRoot: String, store: StoreConfiguration,
                schedules: [NamedSchedule], partners: [PartnerConfiguration],
                metrics: MetricsConfiguration = MetricsConfiguration(), run: RunSettings = RunSettings(),
                signing: SigningIdentity? = nil, certificateWarningDays: Int = 30) {
        self.signing = signing
        self.certificateWarningDays = certificateWarningDays
        self.identity = identity
        self.spoolRoot = spoolRoot
        self.store = store
        self.schedules = schedules
        self.partners = partners
        self.metrics = metrics
        self.run = run
    }

    /// The directory beside the database: the raw store (`raw/`) and small state files live there.
    public var stateDirectory: String {
        switch store {
        case .sqlite(let path): Paths.parent(of: path)
        case .postgres(let settings): settings.stateDirectory
        }
    }

    /// The partner with this id, for services that were handed an id from the ledger.
    public func partner(id: String) -> PartnerConfiguration? { partners.first { $0.id == id } }

    /// The partner a UNB sender belongs to: matched on id and qualifier, or on id alone for an
    /// identity configured without a qualifier.
    public func partner(sender: EDIFACTIdentity) -> PartnerConfiguration? {
        partners.first { $0.identities.contains { $0.matches(sender) } }
    }
}

/// A UNB party: identification (0004 / 0010) and optional code qualifier (0007), as in `ID:QUALIFIER`.
public struct EDIFACTIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The identification, at most 35 characters.
    public var id: String
    /// The partner identification code qualifier, at most 4 characters; nil when not used.
    public var qualifier: String?

    /// Creates an identity.
    public init(id: String, qualifier: String? = nil) {
        self.id = id
        self.qualifier = qualifier
    }

    /// `ID` or `ID:QUALIFIER`, as written in the configuration and on the command line.
    public var description: String { qualifier.map { "\(id):\($0)" } ?? id }

    /// Whether a received UNB party is this identity; an identity without a qualifier takes any qualifier.
    public func matches(_ other: EDIFACTIdentity) -> Bool {
        id == other.id && (qualifier == nil || qualifier == other.qualifier)
    }
}

/// Which store holds the ledger and the content-addressed batches.
public enum StoreConfiguration: Sendable, Hashable {
    /// The embedded SQLite store: one database file (absolute path); batches sit beside it.
    case sqlite(path: String)
    /// A PostgreSQL server that several gateway nodes share; batches sit in a shared directory.
    case postgres(PostgresSettings)

    /// The database file, or `user@host:port/database` (never the password), for messages.
    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let settings): settings.description
        }
    }
}

/// A schedule with the name partners use to refer to it.
public struct NamedSchedule: Sendable, Hashable {
    /// The key under `[schedules]`.
    public var name: String
    /// When it fires.
    public var schedule: CronSchedule

    /// Creates a named schedule.
    public init(name: String, schedule: CronSchedule) {
        self.name = name
        self.schedule = schedule
    }
}

/// What a partner is to the single window; decides what the gateway sends it.
public enum PartnerRole: String, Sendable, Hashable, Codable, CaseIterable {
    /// A shipping line, airline, railway, trucker or express firm: drops manifests, picks up receipts and verdicts.
    case carrier
    /// A border agency (customs, inspection and quarantine, border control, maritime): picks up routed copies, drops verdicts.
    case agency
    /// A terminal or port operator: picks up release files and joint-inspection notices.
    case terminal
}

/// One partner's settings (`[[partner]]`): its identities, directories, conventions and schedule.
public struct PartnerConfiguration: Sendable, Hashable {
    /// Stable identifier: used in the ledger, logs, metrics and directory names.
    public var id: String
    /// What the partner is.
    public var role: PartnerRole
    /// A human name for summaries; the id when not given.
    public var name: String
    /// The UNB senders that are this partner (a file from any other sender in its drop is refused).
    public var identities: [EDIFACTIdentity]
    /// Where the partner drops files for us (absolute).
    public var dropDirectory: String
    /// Where we put receipts and outbound files for the partner (absolute).
    public var pickupDirectory: String
    /// Names of files to take from the drop directory; other files are left alone.
    public var patterns: [FilePattern]
    /// How the partner signals that an upload is complete.
    public var readiness: ReadinessConvention
    /// How long a file may stay incomplete by content (no UNZ, unclosed XML root) before it is quarantined.
    public var incompleteDeadlineSeconds: Int
    /// The character set assumed for the partner's files where they do not say (and for receipts we write).
    public var characterSet: SyntaxIdentifier
    /// Which receipts the partner gets.
    public var acknowledgement: AcknowledgementPolicy
    /// When its drop directory is polled.
    public var schedule: PartnerSchedule

    /// Creates a partner's settings (tests and tools; files go through ``ConfigurationLoader``).
    /// An agency's own CA ([partner.trust]); nil for other partners.
    public var trust: TrustConfiguration?
    /// How this partner's files must be signed ([partner.signature]).
    public var signature: PartnerSignaturePolicy
    /// The drop directory when it is on an SFTP server (`drop = "sftp://ENDPOINT/path"`); `dropDirectory`
    /// then holds that URL, not a local path.
    public var remoteDrop: RemoteDirectory?
    /// The pickup directory when it is on an SFTP server; `pickupDirectory` then holds that URL.
    public var remotePickup: RemoteDirectory?
    /// How remote directories are claimed from and delivered to ([partner.remote]).
    public var remote: RemoteSettings

    /// The drop and pickup directories that are on this machine.
    public var localDirectories: [String] {
        (remoteDrop == nil ? [dropDirectory] : []) + (remotePickup == nil ? [pickupDirectory] : [])
    }
    /// Its login to our own OpenSSH server ([partner.hosted]); nil when it does not log in to us.
    public var hosted: HostedSFTP?
    /// An agency's routing rule ([partner.routing]): what part of each manifest it gets, in which format.
    public var routing: RoutingRule?
    /// How the gateway's own notices reach this partner: releases and inspection or hold notices to a terminal,
    /// statuses to a carrier or an agency (`notices`). Default: EDIFACT.
    public var notices: NoticeFormat = .edifact
    /// A terminal's ports (UN/LOCODEs, `ports`): it is told about the manifests arriving at one of them. Nil: every
    /// manifest.
    public var ports: Set<String>?

    public init(id: String, role: PartnerRole, name: String? = nil, identities: [EDIFACTIdentity],
                dropDirectory: String, pickupDirectory: String, patterns: [FilePattern],
                readiness: ReadinessConvention, incompleteDeadlineSeconds: Int, characterSet: SyntaxIdentifier,
                acknowledgement: AcknowledgementPolicy, schedule: PartnerSchedule,
                trust: TrustConfiguration? = nil, signature: PartnerSignaturePolicy = PartnerSignaturePolicy(),
                remoteDrop: RemoteDirectory? = nil, remotePickup: RemoteDirectory? = nil, remote: RemoteSettings = RemoteSettings()) {
        self.remoteDrop = remoteDrop
        self.remotePickup = remotePickup
        self.remote = remote
        self.trust = trust
        self.signature = signature
        self.id = id
        self.role = role
        self.name = name ?? id
        self.identities = identities
        self.dropDirectory = dropDirectory
        self.pickupDirectory = pickupDirectory
        self.patterns = patterns
        self.readiness = readiness
        self.incompleteDeadlineSeconds = incompleteDeadlineSeconds
        self.characterSet = characterSet
        self.acknowledgement = acknowledgement
        self.schedule = schedule
    }

    /// Whether a file name in the drop directory is one to take (matches a pattern); readiness is separate.
    public func takes(fileName: String) -> Bool { patterns.contains { $0.matches(fileName) } }
}

/// How a partner's upload tells us it is complete: partners keep their own convention.
public enum ReadinessConvention: Sendable, Hashable {
    /// Uploaded under a temporary name, then renamed: names matching `ignoring` (and dotfiles, when
    /// `ignoreDotfiles`) are uploads in progress.
    case rename(ignoring: [FilePattern], ignoreDotfiles: Bool)
    /// The data file is complete once a marker `NAME + suffix` (such as `NAME.ok`) appears beside it.
    case doneMarker(suffixes: [String])
    /// Complete once size and modification time are unchanged over `polls` polls and it is at least
    /// `minimumAgeSeconds` old: for partners that write in place with no signal.
    case stable(minimumAgeSeconds: Int, polls: Int)

    /// The convention's name as written in the file (`rename`, `done-marker`, `stable`).
    public var name: String {
        switch self {
        case .rename: "rename"
        case .doneMarker: "done-marker"
        case .stable: "stable"
        }
    }
}

/// Which receipts a partner gets back for its files.
public struct AcknowledgementPolicy: Sendable, Hashable {
    /// When a CONTRL (syntax receipt) is sent.
    public var contrl: ContrlPolicy
    /// When an APERAK (application receipt) is sent.
    public var aperak: AperakPolicy

    /// Creates a policy; the default answers every file with both receipts, as the single window promises.
    public init(contrl: ContrlPolicy = .always, aperak: AperakPolicy = .always) {
        self.contrl = contrl
        self.aperak = aperak
    }
}

/// When a CONTRL goes back to the sender.
public enum ContrlPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// For every interchange.
    case always
    /// Only when the UNB asks for one (0031 acknowledgement request = 1); rejections are always answered.
    case onRequest = "on-request"
    /// Never (partners whose systems choke on CONTRL); rejections are still in the ledger.
    case never
}

/// When an APERAK goes back to the sender.
public enum AperakPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// For every message whose content was judged.
    case always
    /// Only when the content was rejected.
    case onRejection = "on-rejection"
    /// Never.
    case never
}

/// A partner's poll schedule: a named one from `[schedules]`, or an expression written in place.
public struct PartnerSchedule: Sendable, Hashable {
    /// The name under `[schedules]`, or nil for an expression written in the partner's table.
    public var name: String?
    /// When it fires.
    public var schedule: CronSchedule

    /// Creates a partner schedule.
    public init(name: String?, schedule: CronSchedule) {
        self.name = name
        self.schedule = schedule
    }
}

/// The metrics endpoint of `gateway run` (`[metrics]`).
public struct MetricsConfiguration: Sendable, Hashable {
    /// The `listen` used when none is given: this machine only, Prometheus's conventional exporter port range.
    public static let defaultListen = ListenAddress(host: "127.0.0.1", port: 9464)

    /// Where to serve `GET /metrics`; nil when turned off (`listen = ""`).
    public var listen: ListenAddress?

    /// Creates the settings; the default serves on ``defaultListen``.
    public init(listen: ListenAddress? = MetricsConfiguration.defaultListen) {
        self.listen = listen
    }
}

/// The format of the notices the gateway writes to a partner.
public enum NoticeFormat: String, Sendable, Hashable, CaseIterable {
    /// COREOR releases and cancellations and XML inspection and hold notices to terminals; CUSRES statuses; D96A.
    case edifact
    /// The same in directory D95B.
    case edifactD95B = "edifact-d95b"
    /// Everything as the project's XML: terminal-notice-1.xsd for terminals, status-1.xsd for statuses.
    case xml

    /// The EDIFACT directory of the COREOR and CUSRES written; nil for XML.
    public var directory: CUSCARDirectory? {
        switch self {
        case .edifact: .d96A
        case .edifactD95B: .d95B
        case .xml: nil
        }
    }
}

/// How agencies' instructions are merged into one state per consignment and container (`[verdict]`).
public struct VerdictSettings: Sendable, Hashable {
    /// Goods no agency was routed are released when no agency has spoken this long after their manifest was
    /// filed. Default: 3 600 (an hour).
    public var silenceSeconds: Int = 3600
    /// How many days a release sent to a terminal holds (COREOR DTM 36). Default: 14.
    public var releaseValidDays: Int = 14
    /// How long an instruction about goods the library does not hold yet is kept for them: it applies to goods
    /// filed at most this long after it arrived, and to none filed later (a container number seen again on a
    /// later voyage is not the box it was about). Default: 259 200 (three days).
    public var unknownObjectWaitSeconds: Int = 259_200

    public init(silenceSeconds: Int = 3600, releaseValidDays: Int = 14, unknownObjectWaitSeconds: Int = 259_200) {
        self.silenceSeconds = silenceSeconds
        self.releaseValidDays = releaseValidDays
        self.unknownObjectWaitSeconds = unknownObjectWaitSeconds
    }
}

/// How the long-running `gateway run` paces itself (`[run]`).
public struct RunSettings: Sendable, Hashable {
    /// Seconds the worker sleeps when nothing is due before looking again; a pickup wakes it early.
    public var idlePollSeconds: Int
    /// Seconds SIGTERM waits for the work in hand to finish before cancelling it.
    public var shutdownGraceSeconds: Int

    /// Creates the settings; the defaults are 1 s idle polling and a 30 s shutdown grace.
    public init(idlePollSeconds: Int = 1, shutdownGraceSeconds: Int = 30) {
        self.idlePollSeconds = idlePollSeconds
        self.shutdownGraceSeconds = shutdownGraceSeconds
    }

    /// ``idlePollSeconds`` as a duration, for `WorkerService`.
    public var idleInterval: Duration { .seconds(idlePollSeconds) }
    /// ``shutdownGraceSeconds`` as a duration, for `ServiceGroupConfiguration.maximumGracefulShutdownDuration`.
    public var shutdownGrace: Duration { .seconds(shutdownGraceSeconds) }
}

/// A TCP address to listen on, written `HOST:PORT` (`127.0.0.1:9464`, `[::1]:9464`, `localhost:9464`).
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// An IP address or a host name; an IPv6 address without its brackets.
    public var host: String
    /// The TCP port; 0 asks the system for a free one (tests), which the configuration file refuses.
    public var port: Int

    /// Creates an address from its parts.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Why a `HOST:PORT` text was refused, in words for the configuration message.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong and what would be right.
        public var message: String
        /// The message.
        public var description: String { message }
    }

    /// Parses `HOST:PORT`, an IPv6 host in brackets; the port must be 1-65535.
    public init(parsing text: String) throws(ParseError) {
        func fail(_ why: String) -> ParseError {
            ParseError(message: "'\(text)' \(why) (write HOST:PORT, such as 127.0.0.1:9464 or [::1]:9464)")
        }
        guard let colon = text.lastIndex(of: ":") else { throw fail("has no port") }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { throw fail("has an unclosed or empty '['") }
            host = String(host.dropFirst().dropLast())
            guard host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }), host.contains(":") else {
                throw fail("has '\(host)' in brackets, which is not an IPv6 address")
            }
        } else {
            guard !host.isEmpty else { throw fail("has no host") }
            if host.contains(":") { throw fail("has an IPv6 host without brackets") }
            guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }) else {
                throw fail("has a host that is neither an IP address nor a host name")
            }
        }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(portText) else {
            throw fail("has no port number after the last ':'")
        }
        guard (1...65535).contains(port) else { throw fail("has port \(port), outside 1-65535") }
        self.init(host: host, port: port)
    }

    /// `HOST:PORT`, with an IPv6 host in brackets, as written in the file.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
