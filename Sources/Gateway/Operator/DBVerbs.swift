import Foundation
import GRDB

/// `gateway db migrate` and `gateway db check`: the store's schema, on SQLite or PostgreSQL.
public enum DBVerbs {
    /// What `check` and `migrate` report.
    struct Report: Encodable, Sendable {
        var store: String
        var target: String
        @Nullable var server: String?
        var applied: [String]
        var pending: [String]
        /// Applied by this command (migrate only).
        var appliedNow: [String]
        var ok: Bool
    }

    /// Applies the migrations the store lacks. Exit status: 0 when the schema is current, 1 when the store cannot be
    /// reached or a migration failed, 2 on a configuration error.
    public static func migrate(configPath: String, json: Bool, out: OutputSink, err: OutputSink) -> OperatorStatus {
        run(configPath: configPath, json: json, migrating: true, out: out, err: err)
    }

    /// Connects and compares the schema with this version's. Exit status: 0 when reachable with every migration
    /// applied, 1 when it cannot be reached or migrations are pending (run `gateway db migrate`), 2 on a
    /// configuration error.
    public static func check(configPath: String, json: Bool, out: OutputSink, err: OutputSink) -> OperatorStatus {
        run(configPath: configPath, json: json, migrating: false, out: out, err: err)
    }

    private static func run(configPath: String, json: Bool, migrating: Bool, out: OutputSink, err: OutputSink) -> OperatorStatus {
        defer { out.flush(); err.flush() }
        guard let configuration = ConfigurationLoader.loadReporting(path: configPath, err: err, nothingWas: migrating ? "migrated" : "checked") else {
            return .usage
        }
        let report: Report
        do {
            switch configuration.store {
            case .sqlite(let path):
                report = try sqlite(path: path, migrating: migrating)
            case .postgres(let settings):
                report = try postgres(settings, migrating: migrating)
            }
        } catch {
            err.line("\(error)")
            return .refused
        }
        if json {
            out.line(OperatorFormat.json(report))
        } else {
            out.line("store: \(report.store) \(report.target)" + (report.server.map { " (server \($0))" } ?? ""))
            if !report.appliedNow.isEmpty { out.line("applied now: " + report.appliedNow.joined(separator: ", ")) }
            out.line("schema: \(report.applied.count) migration(s) applied" + (report.applied.last.map { ", the last \($0)" } ?? "")
                     + "; " + (report.pending.isEmpty ? "none pending" : "pending: " + report.pending.joined(separator: ", ")
                               + " (run `gateway db migrate`)"))
        }
        return report.ok ? .success : .refused
    }

    private static func sqlite(path: String, migrating: Bool) throws -> Report {
        let all = StoreSchema.migrator.migrations
        guard migrating || FileManager.default.fileExists(atPath: path) else {
            return Report(store: "sqlite", target: path, server: nil, applied: [], pending: all, appliedNow: [], ok: false)
        }
        var before: [String] = [], version: String?
        if FileManager.default.fileExists(atPath: path) {
            // Read as it is, without migrating (GatewayStore would).
            let queue = try DatabaseQueue(path: path)
            (before, version) = try queue.read { db in
                (try StoreSchema.migrator.appliedMigrations(db), try String.fetchOne(db, sql: "SELECT sqlite_version()"))
            }
        }
        if !migrating {
            let pending = all.filter { !before.contains($0) }
            return Report(store: "sqlite", target: path, server: version.map { "SQLite " + $0 }, applied: before,
                          pending: pending, appliedNow: [], ok: pending.isEmpty)
        }
        try FileOps.makeDirectories(Paths.parent(of: path))
        let store = try GatewayStore(path: path)
        let applied = try store.appliedMigrations()
        version = try store.pool.read { db in try String.fetchOne(db, sql: "SELECT sqlite_version()") }
        return Report(store: "sqlite", target: path, server: version.map { "SQLite " + $0 }, applied: applied,
                      pending: all.filter { !applied.contains($0) }, appliedNow: applied.filter { !before.contains($0) }, ok: true)
    }

    private static func postgres(_ settings: PostgresSettings, migrating: Bool) throws -> Report {
        let session = try PostgresSession.connect(settings)
        do {
            let now = migrating ? try PostgresStoreSchema.migrate(session) : []
            let state = try PostgresStoreSchema.state(session)
            return Report(store: "postgres", target: settings.description, server: "PostgreSQL " + state.serverVersion, applied: state.applied,
                          pending: state.pending, appliedNow: now, ok: state.pending.isEmpty)
        } catch {
            throw PostgresStoreError(code: "postgres.schema", message: "\(settings.description): \((error as? PostgresQueryError)?.message ?? "\(error)")")
        }
    }
}
