import GRDB

// Applying `PostgresStoreSchema.migrations` (hand-written: no library here runs named migrations on PostgreSQL
// without an ORM). Each migration runs in its own transaction under a transaction-scoped advisory lock, so nodes
// starting together apply each exactly once, and a migration that fails leaves nothing behind.

extension PostgresStoreSchema {
    /// The server's version and the migrations applied and still to apply.
    struct State: Sendable, Hashable {
        var serverVersion: String
        var applied: [String]
        var pending: [String]
    }

    static func state(_ session: PostgresSession) throws -> State {
        let version = try session.run("SHOW server_version").scalar(String.self) ?? "?"
        let exists = try session.run("SELECT to_regclass('swg_migration') IS NOT NULL").scalar(Int64.self) == 1
        var applied: [String] = []
        if exists {
            applied = try session.run("SELECT name FROM swg_migration ORDER BY id").values.compactMap { $0.first.flatMap(String.fromDatabaseValue) }
        }
        return State(serverVersion: version, applied: applied, pending: migrations.map(\.name).filter { !applied.contains($0) })
    }

    /// Applies the migrations not applied yet; returns the names applied now.
    @discardableResult
    static func migrate(_ session: PostgresSession) throws -> [String] {
        var done: [String] = []
        for migration in migrations {
            let applied = try session.transaction(writing: true, readCommitted: true) { () throws -> Bool in
                try session.run("SELECT pg_advisory_xact_lock(hashtextextended('swg.migrate', 0))")
                try session.run("""
                    CREATE TABLE IF NOT EXISTS swg_migration (
                        id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                    """)
                guard try session.run("SELECT 1 FROM swg_migration WHERE name = ?", [migration.name.databaseValue]).values.isEmpty else {
                    return false
                }
                for sql in migration.sql { try session.run(sql) }
                try session.run("INSERT INTO swg_migration (name) VALUES (?)", [migration.name.databaseValue])
                return true
            }
            if applied { done.append(migration.name) }
        }
        return done
    }
}
