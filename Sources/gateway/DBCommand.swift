import ArgumentParser
import Foundation
import Gateway

/// `gateway db migrate`, `gateway db check`.
struct DBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Create or upgrade the store's schema, or check that the store is reachable and current.",
        discussion: """
            The store is [store] in the configuration: the embedded SQLite file, or a PostgreSQL server that \
            several gateway nodes share (host, port, database, user; the password from password_file or \
            password_env, never the command line; tls = "require" for TLS). Migrations are named and applied \
            once, in order; nodes starting together do not apply one twice.
            """,
        subcommands: [Migrate.self, Check.self]
    )

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate",
            abstract: "Apply the migrations the store lacks (creating the SQLite file if needed).",
            discussion: "Exit status: 0 when the schema is current, 1 when the store cannot be reached or a migration failed, 2 on a usage or configuration error."
        )

        @Flag(help: "Print one JSON document instead of text.")
        var json = false

        @OptionGroup var ledger: LedgerOptions

        func run() throws {
            try finish(DBVerbs.migrate(configPath: ledger.path, json: json, out: .standardOutput(), err: .standardError()))
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Connect to the store and compare its schema with this version's.",
            discussion: """
                Prints the store, the server's version and the migrations applied and pending. Exit status: 0 when \
                the store is reachable and every migration is applied, 1 when it cannot be reached or migrations are \
                pending (run `gateway db migrate`), 2 on a usage or configuration error.
                """
        )

        @Flag(help: "Print one JSON document instead of text.")
        var json = false

        @OptionGroup var ledger: LedgerOptions

        func run() throws {
            try finish(DBVerbs.check(configPath: ledger.path, json: json, out: .standardOutput(), err: .standardError()))
        }
    }
}
