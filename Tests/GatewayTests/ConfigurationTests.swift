import Foundation
import Testing

@testable import Gateway

/// Loads `text` as if it were /srv/spool/gateway.toml and returns its mistakes (empty when it loads).
private func mistakes(_ text: String) -> [ConfigurationError] {
    do {
        _ = try ConfigurationLoader.parse(text, configurationDirectory: "/srv/spool")
        return []
    } catch {
        return error.errors
    }
}

/// A valid minimal file, to which tests append one mistake.
private let minimal = """
    [gateway]
    sender_id = "SWGATEWAY"

    [[partner]]
    id = "CARRIERX"
    role = "carrier"
    drop = "partners/CARRIERX/drop"
    pickup = "partners/CARRIERX/pickup"

    """

@Suite("Configuration loading")
struct ConfigurationTests {
    @Test("the sample spool/gateway.toml loads with its six partners and four schedules")
    func sample() throws {
        let path = CLI.packageRoot.appendingPathComponent("spool/gateway.toml").path
        let configuration = try ConfigurationLoader.load(path: path)
        let spool = CLI.packageRoot.appendingPathComponent("spool").standardizedFileURL.path
        #expect(configuration.spoolRoot == spool)
        #expect(configuration.identity == EDIFACTIdentity(id: "SWGATEWAY", qualifier: "ZZZ"))
        #expect(configuration.store == .sqlite(path: spool + "/state/gateway.sqlite"))
        #expect(configuration.partners.map(\.id) == ["CARRIERX", "CUSTOMS", "CIQ", "BORDER", "MSA", "KEMBATERM"])
        #expect(configuration.partners.map(\.role) == [.carrier, .agency, .agency, .agency, .agency, .terminal])
        #expect(configuration.schedules.map(\.name) == ["every-minute", "frequent", "office-hours", "nightly"])
        let carrier = try #require(configuration.partner(id: "CARRIERX"))
        #expect(carrier.dropDirectory == spool + "/partners/CARRIERX/drop")
        #expect(carrier.takes(fileName: "MAN0042.edi") && !carrier.takes(fileName: "MAN0042.edi.tmp"))
        #expect(carrier.schedule.name == "frequent")
        #expect(configuration.partner(sender: EDIFACTIdentity(id: "CNCQBORDER", qualifier: "ZZZ"))?.id == "BORDER")
        #expect(configuration.partner(id: "CUSTOMS")?.readiness == .doneMarker(suffixes: [".ok"]))
        #expect(configuration.partner(id: "CIQ")?.readiness == .doneMarker(suffixes: [".ok", ".done"]))
        #expect(configuration.partner(id: "CIQ")?.characterSet == .UNOY)
        #expect(configuration.partner(id: "BORDER")?.readiness == .stable(minimumAgeSeconds: 60, polls: 2))
        #expect(configuration.partner(id: "BORDER")?.acknowledgement == AcknowledgementPolicy(contrl: .onRequest, aperak: .onRejection))
        #expect(configuration.partner(id: "MSA")?.acknowledgement == AcknowledgementPolicy())
        #expect(configuration.metrics.listen == ListenAddress(host: "127.0.0.1", port: 9464))
        #expect(configuration.run == RunSettings(idlePollSeconds: 1, shutdownGraceSeconds: 30))
        #expect(configuration.verdict == VerdictSettings(silenceSeconds: 3600, releaseValidDays: 14, unknownObjectWaitSeconds: 259_200))
        #expect(configuration.partner(id: "KEMBATERM")?.ports == ["KEMBA"] && configuration.partner(id: "KEMBATERM")?.notices == .edifact)
    }

    @Test("the minimal file loads with defaults")
    func defaults() throws {
        let c = try ConfigurationLoader.parse(minimal, configurationDirectory: "/srv/spool")
        let p = try #require(c.partners.first)
        #expect(c.store == .sqlite(path: "/srv/spool/state/gateway.sqlite"))
        #expect(p.identities == [EDIFACTIdentity(id: "CARRIERX")])
        #expect(p.characterSet == .UNOC && p.incompleteDeadlineSeconds == 900)
        #expect(p.readiness.name == "rename" && p.schedule.schedule.expression == "* * * * *")
        #expect(p.takes(fileName: "anything"))
        #expect(c.metrics == MetricsConfiguration(listen: ListenAddress(host: "127.0.0.1", port: 9464)))
        #expect(c.run.idleInterval == .seconds(1) && c.run.shutdownGrace == .seconds(30))
    }

    @Test("[metrics] listen takes HOST:PORT (IPv6 in brackets) or \"\" for off; [run] takes whole seconds", arguments: [
        ("127.0.0.1:9100", ListenAddress(host: "127.0.0.1", port: 9100)),
        ("0.0.0.0:9464", ListenAddress(host: "0.0.0.0", port: 9464)),
        ("[::1]:9464", ListenAddress(host: "::1", port: 9464)),
        ("metrics.example-host:65535", ListenAddress(host: "metrics.example-host", port: 65535)),
        ("", nil),
    ])
    func metricsAndRun(listen: String, expected: ListenAddress?) throws {
        let c = try ConfigurationLoader.parse(minimal + """
            [metrics]
            listen = "\(listen)"

            [run]
            idle_poll_seconds = 5
            shutdown_grace_seconds = 120

            """, configurationDirectory: "/srv/spool")
        #expect(c.metrics.listen == expected)
        #expect(c.metrics.listen.map { "\($0)" } == expected.map { _ in listen })
        #expect(c.run == RunSettings(idlePollSeconds: 5, shutdownGraceSeconds: 120))
    }

    @Test("each kind of mistake names its key path and line", arguments: [
        // (text appended to the minimal file, key, line, start of message)
        ("spool = \"x\"\n", "partner[1].spool", 9, "unknown key 'spool'"),
        ("patterns = [\"*.edi\", \"[abc\"]\n", "partner[1].patterns[2]", 9, "bad pattern: '[abc' has a '[' that is never closed"),
        ("patterns = \"*.edi\"\n", "partner[1].patterns", 9, "must be an array of strings, not a string"),
        ("incomplete_deadline_seconds = \"ten\"\n", "partner[1].incomplete_deadline_seconds", 9, "must be an integer, not a string"),
        ("charset = \"UNOZ\"\n", "partner[1].charset", 9, "'UNOZ' is not one of: UNOA"),
        ("schedule = \"weekly\"\n", "partner[1].schedule", 9, "'weekly' is not a schedule under [schedules] (there are none)"),
        ("schedule = \"61 * * * *\"\n", "partner[1].schedule", 9, "bad cron expression: minute: 61 is out of range 0-59"),
        ("[schedules]\nnightly = \"30 25 * * *\"\n", "schedules.nightly", 10, "bad cron expression: hour: 25 is out of range 0-23"),
        ("[store]\nkind = \"postgres\"\nuser = \"swg\"\n", "store.database", 9, "missing; this key is required"),
        ("[store]\nkind = \"postgres\"\ndatabase = \"d\"\nuser = \"u\"\npassword_file = \"a\"\npassword_env = \"B\"\n", "store.password_env", 14,
         "give password_file or password_env, not both"),
        ("[store]\nkind = \"postgres\"\ndatabase = \"d\"\nuser = \"u\"\ntls = \"maybe\"\n", "store.tls", 13, "'maybe' is not one of: disable, require"),
        ("[store]\nkind = \"postgres\"\ndatabase = \"d\"\nuser = \"u\"\npath = \"x.sqlite\"\n", "store.path", 13, "only applies to kind = \"sqlite\""),
        ("[store]\nhost = \"db\"\n", "store.host", 10, "only applies to kind = \"postgres\""),
        ("[store]\nkind = \"postgres\"\ndatabase = \"d\"\nuser = \"u\"\ntls_ca_file = \"ca.pem\"\n", "store.tls_ca_file", 13,
         "only applies with tls = \"require\""),
        ("[partner.readiness]\nconvention = \"rename\"\nmarkers = [\".ok\"]\n", "partner[1].readiness.markers", 11,
         "only applies to convention = \"done-marker\", not \"rename\""),
        ("[partner.readiness]\nconvention = \"ready\"\n", "partner[1].readiness.convention", 10, "'ready' is not one of: rename, done-marker, stable"),
        ("acknowledgement = { contrl = \"sometimes\" }\n", "partner[1].acknowledgement.contrl", 9, "'sometimes' is not one of: always, on-request, never"),
        ("[[partner]]\nid = \"X\"\nrole = \"agency\"\npickup = \"p\"\n", "partner[2].drop", 9, "missing; this key is required"),
        ("[[partner]]\nid = \"CARRIERX\"\nrole = \"agency\"\ndrop = \"a\"\npickup = \"b\"\n", "partner[2].id", 10,
         "duplicate partner id 'CARRIERX'; the first is partner[1] (line 5)"),
        ("[[partner]]\nid = \"Y\"\nrole = \"agency\"\ndrop = \"partners/CARRIERX/drop\"\npickup = \"b\"\n", "partner[2].drop", 12,
         "/srv/spool/partners/CARRIERX/drop is already the drop directory of partner 'CARRIERX' (line 7)"),
        ("[[partner]]\nid = \"Y\"\nrole = \"agency\"\ndrop = \"y/in\"\npickup = \"./y//in/\"\n", "partner[2].pickup", 13,
         "is the same directory as drop (/srv/spool/y/in)"),
        ("[[partner]]\nid = \"Y\"\nrole = \"agency\"\ndrop = \"../elsewhere\"\npickup = \"b\"\n", "partner[2].drop", 12,
         "'../elsewhere' leaves the spool root"),
        ("[[partner]]\nid = \"Y\"\nrole = \"agency\"\ndrop = \"~/in\"\npickup = \"b\"\n", "partner[2].drop", 12,
         "'~/in': '~' is not expanded"),
        ("[[partner]]\nid = \"Y\"\nrole = \"shipper\"\ndrop = \"y/in\"\npickup = \"y/out\"\n", "partner[2].role", 11,
         "'shipper' is not one of: carrier, agency, terminal"),
        ("[partners]\nx = 1\n", "partners", 9, "unknown key 'partners'; did you mean 'partner'?"),
        ("[metrics]\nlisten = \"localhost\"\n", "metrics.listen", 10,
         "'localhost' has no port (write HOST:PORT, such as 127.0.0.1:9464 or [::1]:9464); \"\" turns metrics off"),
        ("[metrics]\nlisten = \":9464\"\n", "metrics.listen", 10, "':9464' has no host"),
        ("[metrics]\nlisten = \"127.0.0.1:http\"\n", "metrics.listen", 10, "'127.0.0.1:http' has no port number after the last ':'"),
        ("[metrics]\nlisten = \"127.0.0.1:0\"\n", "metrics.listen", 10, "'127.0.0.1:0' has port 0, outside 1-65535"),
        ("[metrics]\nlisten = \"127.0.0.1:70000\"\n", "metrics.listen", 10, "'127.0.0.1:70000' has port 70000, outside 1-65535"),
        ("[metrics]\nlisten = \"::1:9464\"\n", "metrics.listen", 10, "'::1:9464' has an IPv6 host without brackets"),
        ("[metrics]\nlisten = \"[localhost]:9464\"\n", "metrics.listen", 10, "'[localhost]:9464' has 'localhost' in brackets"),
        ("[metrics]\nlisten = \"my host:9464\"\n", "metrics.listen", 10, "'my host:9464' has a host that is neither"),
        ("[metrics]\nlisten = 9464\n", "metrics.listen", 10, "must be a string"),
        ("[metrics]\nport = 9464\n", "metrics.port", 10, "unknown key 'port'; known keys here: listen"),
        ("[run]\nidle_poll_seconds = -1\n", "run.idle_poll_seconds", 10, "must be at least 1, not -1"),
        ("[run]\nidle_poll_seconds = 0\n", "run.idle_poll_seconds", 10, "must be at least 1, not 0"),
        ("[run]\nidle_poll_seconds = 0.5\n", "run.idle_poll_seconds", 10, "must be an integer, not a"),
        ("[run]\nshutdown_grace_seconds = -30\n", "run.shutdown_grace_seconds", 10, "must be at least 1, not -30"),
        ("notices = \"fax\"\n", "partner[1].notices", 9, "'fax' is not one of: edifact, edifact-d95b, xml"),
        ("ports = [\"KEMBA\"]\n", "partner[1].ports", 9, "applies to terminals only"),
        ("[[partner]]\nid = \"T\"\nrole = \"terminal\"\ndrop = \"t/in\"\npickup = \"t/out\"\nports = [\"Kemba\"]\n", "partner[2].ports[1]", 14,
         "'Kemba' is not a UN/LOCODE"),
        ("[verdict]\nunknown_object_wait_seconds = -1\n", "verdict.unknown_object_wait_seconds", 10, "must be at least 0, not -1"),
        ("[run]\nshutdown_grace_second = 30\n", "run.shutdown_grace_second", 10,
         "unknown key 'shutdown_grace_second'; did you mean 'shutdown_grace_seconds'?"),
    ])
    func mistake(appended: String, key: String, line: Int, message: String) {
        let found = mistakes(minimal + appended)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.key == key, "\(found)")
        #expect(found.first?.line == line, "\(found)")
        #expect(found.first?.message.hasPrefix(message) == true, "\(found)")
    }

    @Test("a missing [gateway] and a missing sender_id are reported")
    func missingGateway() {
        #expect(mistakes("[store]\n").map(\.key) == ["gateway"])
        #expect(mistakes("[gateway]\nspool = \".\"\n").map { "\($0.key) \($0.line ?? 0)" } == ["gateway.sender_id 1"])
    }

    @Test("every mistake is reported together, in file order")
    func allTogether() {
        let text = """
            [gateway]
            sender_id = "SWGATEWAY"
            spol = "."

            [schedules]
            nightly = "30 25 * * *"

            [[partner]]
            id = "A"
            role = "carrier"
            drop = "a/drop"
            pickup = "a/drop"
            schedule = "weekly"

            [[partner]]
            id = "A"
            role = "agency"
            drop = "a/drop"
            pickup = "b/pickup"
            [partner.readiness]
            convention = "stable"
            polls = 0
            """
        let found = mistakes(text).map { "\($0.line ?? 0) \($0.key)" }
        #expect(found == [
            "3 gateway.spol", "6 schedules.nightly", "12 partner[1].pickup", "13 partner[1].schedule",
            "16 partner[2].id", "18 partner[2].drop", "22 partner[2].readiness.polls",
        ])
    }

    @Test("mistakes in [metrics] and [run] are reported with the others")
    func metricsAndRunTogether() {
        let found = mistakes(minimal + """
            [metrics]
            listen = "127.0.0.1"
            [run]
            idle_poll_seconds = -5
            shutdown_grace_seconds = "30"
            """).map { "\($0.line ?? 0) \($0.key)" }
        #expect(found == ["10 metrics.listen", "12 run.idle_poll_seconds", "13 run.shutdown_grace_seconds"])
    }

    @Test("a TOML syntax error is one mistake with its line")
    func syntax() {
        let found = mistakes("[gateway]\nsender_id = \"X\"\nbroken = \n")
        #expect(found.count == 1)
        #expect(found.first?.key == "(syntax)" && found.first?.line == 3)
    }

    @Test("the line index follows array tables, sub-tables, quoted keys and multi-line values")
    func lineIndex() {
        let index = TOMLLineIndex("""
            # comment
            [a]
            x = [
              "]", # tricky
            ]
            s = \"\"\"
            y = 1
            \"\"\"
            "q.k" = 2
            [[p]]
            k = 1
            [[p]]
            [p.r]
            z = { inner = 1 }
            """)
        #expect(index.line(for: "a") == 2)
        #expect(index.line(for: "a.x") == 3)
        #expect(index.line(for: "a.x[2]") == 3)
        #expect(index.line(for: "a.s") == 6)
        #expect(index.line(for: "a.y") == 2)  // inside the string: not a key, falls back to [a]
        #expect(index.line(for: "a.\"q.k\"") == 9)
        #expect(index.line(for: "p[1].k") == 11)
        #expect(index.line(for: "p[2]") == 12)
        #expect(index.line(for: "p[2].r.z.inner") == 14)
    }

    @Test("file patterns", arguments: [
        ("*.edi", "MAN1.edi", true), ("*.edi", "MAN1.EDI", false), ("*.edi", "x.edi.tmp", false),
        ("MAN??.edi", "MAN12.edi", true), ("MAN??.edi", "MAN1.edi", false),
        ("[A-C]*", "B1", true), ("[!A-C]*", "B1", false), ("[^A-C]*", "D1", true),
        ("\\*", "*", true), ("*", "a/b", false), ("*x*y*", "axxbyc", true),
    ])
    func patterns(pattern: String, name: String, matches: Bool) throws {
        #expect(try FilePattern(parsing: pattern).matches(name) == matches)
    }
}
