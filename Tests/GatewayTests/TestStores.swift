import Foundation
import Testing
import TestSupport

@testable import Gateway

// The store-level suites run against both stores (issue 8): a SQLite file in a fresh folder, and a fresh database
// on the test PostgreSQL (TestSupport/TestPostgres.swift).

/// Which store a test runs against.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The store of the suites that drive the gateway through a spool: SQLite, or PostgreSQL when the test
    /// process runs with SWG_TEST_STORE=postgres.
    static let pipelineDefault: StoreKind = ProcessInfo.processInfo.environment["SWG_TEST_STORE"] == "postgres" ? .postgres : .sqlite

    /// The stores the store-level tests take as their argument: the one the test process is run for
    /// (`scripts/test.sh` runs the whole suite on SQLite, then these suites again with SWG_TEST_STORE=postgres).
    /// Not both in one process: the PostgreSQL waits of twice as many blocking tests held Swift's few cooperative
    /// threads long enough to starve the scheduler's timing tests running beside them.
    static let underTest: [StoreKind] = [pipelineDefault]
}

/// A fresh, empty store of one kind and a folder for what goes beside it; `open()` opens it (again: a restarted
/// process, or a second node).
final class TestStore {
    let kind: StoreKind
    let dir: StoreTempDir
    let postgres: PostgresSettings?

    init(_ kind: StoreKind) throws {
        self.kind = kind
        dir = try StoreTempDir()
        if kind == .postgres {
            let server = try TestPostgres.shared()
            postgres = postgresSettings(server, try server.createDatabase())
        } else {
            postgres = nil
        }
    }

    var path: String { dir.path }

    func open() throws -> GatewayStore {
        if let postgres { return try GatewayStore(postgres: postgres) }
        return try GatewayStore(path: dir.databasePath)
    }

    /// The `[store]` table of a gateway.toml for this store (SQLite: none, the default).
    func table(stateDirectory: String) throws -> String {
        guard let postgres else { return "" }
        return "\n" + (try TestPostgres.shared().storeTable(database: postgres.database)) + "state_directory = \"\(stateDirectory)\"\n"
    }
}
