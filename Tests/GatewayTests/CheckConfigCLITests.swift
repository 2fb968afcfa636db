import Foundation
import Testing

@testable import Gateway

// End-to-end checks of `gateway check-config` through the real executable (see CLITests.swift).

@Suite("gateway check-config, end to end")
struct CheckConfigCLITests {
    @Test("the sample configuration passes: summary by role and next runs, exit 0")
    func sample() throws {
        let run = try CLI.run(["check-config", "--at", "2025-01-31T09:30:00Z"], in: CLI.packageRoot)
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.isEmpty)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "spool/gateway.toml: OK: 6 partners (1 carrier, 4 agencies, 1 terminal), 4 schedules")
        #expect(lines.contains("store     sqlite state/gateway.sqlite"))
        #expect(lines.contains { $0.hasPrefix("partner   CARRIERX   carrier   rename       frequent      next 2025-01-31T09:30:15Z  drop partners/CARRIERX/drop") })
        #expect(lines.contains("schedule  office-hours  */5 0-10 * * MON-FRI  next 2025-01-31T09:35:00Z"))
        #expect(lines.contains("schedule  nightly       30 18 * * *           next 2025-01-31T18:30:00Z"))
    }

    @Test("$GATEWAY_CONFIG and --config name the file; --json prints the summary as JSON")
    func json() throws {
        let run = try CLI.run(["check-config", "--config", "spool/gateway.toml", "--json", "--at", "2025-01-31T09:30:00Z"],
                              in: CLI.packageRoot)
        #expect(run.status == 0, "\(run)")
        let doc = try JSONDecoder().decode(ConfigurationCheck.Document.self, from: Data(run.stdout.utf8))
        #expect(doc.valid && doc.errors.isEmpty)
        #expect(doc.summary?.roles == ["carrier": 1, "agency": 4, "terminal": 1])
        #expect(doc.summary?.schedules.first { $0.name == "frequent" }?.next == "2025-01-31T09:30:15Z")
    }

    @Test("every mistake as PATH:LINE: key: message, exit 1")
    func mistakes() throws {
        let scratch = try Scratch()
        try scratch.write("bad.toml", """
            [gateway]
            sender_id = "SWGATEWAY"
            spol = "."

            [store]
            kind = "postgres"
            database = "swg"
            user = "swg"
            password = "secret"

            [[partner]]
            id = "A"
            role = "carrier"
            drop = "a/in"
            pickup = "a/in"
            patterns = ["[abc"]

            """)
        let run = try scratch.gateway("check-config", "--config", "bad.toml")
        #expect(run.status == 1, "\(run)")
        #expect(run.stdout == """
            bad.toml:3: gateway.spol: unknown key 'spol'; did you mean 'spool'?
            bad.toml:9: store.password: a password is never written in the configuration: use password_file or password_env
            bad.toml:15: partner[1].pickup: is the same directory as drop (\(scratch.url.standardizedFileURL.path)/a/in); receipts would be picked up as new files
            bad.toml:16: partner[1].patterns[1]: bad pattern: '[abc' has a '[' that is never closed

            """)
        #expect(run.stderr == "bad.toml: 4 mistakes\n")

        let json = try scratch.gateway("check-config", "--config", "bad.toml", "--json")
        #expect(json.status == 1)
        let doc = try JSONDecoder().decode(ConfigurationCheck.Document.self, from: Data(json.stdout.utf8))
        #expect(doc.errors.map(\.key) == ["gateway.spol", "store.password", "partner[1].pickup", "partner[1].patterns[1]"])
        #expect(doc.errors.map(\.line) == [3, 9, 15, 16])
    }

    @Test("a TOML syntax error is a mistake with its line, exit 1")
    func syntax() throws {
        let scratch = try Scratch()
        try scratch.write("syntax.toml", "[gateway\nsender_id = \"X\"\n")
        let run = try scratch.gateway("check-config", "--config", "syntax.toml")
        #expect(run.status == 1, "\(run)")
        #expect(run.stdout.hasPrefix("syntax.toml:1: (syntax): "))
    }

    @Test("an unreadable file or a bad option exits 2", arguments: [
        (["check-config", "--config", "no-such.toml"], "no-such.toml: cannot open: No such file or directory\n"),
        (["check-config", "--at", "tomorrow"], "Error: Invalid --at: 'tomorrow' is not a UTC time as YYYY-MM-DDTHH:MM:SSZ"),
        (["check-config", "--bogus"], "Error: Unknown option '--bogus'"),
    ])
    func failures(arguments: [String], message: String) throws {
        let scratch = try Scratch()
        let run = try CLI.run(arguments, in: scratch.url)
        #expect(run.status == 2, "\(run)")
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix(message), "\(run.stderr)")
    }

    @Test("without --config and $GATEWAY_CONFIG, ./spool/gateway.toml is read")
    func defaultPath() throws {
        let scratch = try Scratch()
        let run = try scratch.gateway("check-config")
        #expect(run.status == 2)
        #expect(run.stderr == "spool/gateway.toml: cannot open: No such file or directory\n")
        #expect(ConfigurationCheck.path(option: nil, environment: ["GATEWAY_CONFIG": "/etc/gw.toml"]) == "/etc/gw.toml")
        #expect(ConfigurationCheck.path(option: "x.toml", environment: ["GATEWAY_CONFIG": "/etc/gw.toml"]) == "x.toml")
    }
}
