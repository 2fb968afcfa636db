import Foundation
import GRDB
import GRDBSQLite

// The store's one interface to its database, SQLite (GRDB) or PostgreSQL (postgres-nio, issue 8). The store's
// code is written once against `StoreConnection`: the same SQL (written so both accept it; where they differ,
// `dialect` says which), the same `StoreArguments`, and rows as GRDB `Row`s, so the record types decode the same
// on both. Invariants live in each store's schema (`StoreSchema`, `PostgresStoreSchema`).
//
// On SQLite no statement is compiled twice: GRDB's `execute(sql:)` and `fetchOne(db, sql:)` compile (and
// authorize) the SQL on every call, which was a third of the pipeline's CPU time per file, and a chunk runs the
// same dozen statements hundreds of times. Queries go through GRDB's statement cache; INSERT, UPDATE and DELETE
// through statements this connection prepares once per transaction and binds itself (`runDirect`).

/// Which SQL a connection speaks, for the few statements the two stores spell differently.
public enum StoreDialect: String, Sendable {
    case sqlite
    case postgres
}

/// A statement's arguments, in order (`[a, b, nil]`).
public struct StoreArguments: ExpressibleByArrayLiteral, Sendable {
    public var values: [DatabaseValue]

    public init(arrayLiteral elements: (any DatabaseValueConvertible)?...) {
        values = elements.map(StoreDate.databaseValue)
    }

    public init(_ elements: some Sequence<some DatabaseValueConvertible>) {
        values = elements.map(StoreDate.databaseValue)
    }

    public init(_ elements: [(any DatabaseValueConvertible)?]) {
        values = elements.map(StoreDate.databaseValue)
    }

    public static func += (lhs: inout StoreArguments, rhs: StoreArguments) {
        lhs.values += rhs.values
    }

    public static func + (lhs: StoreArguments, rhs: StoreArguments) -> StoreArguments {
        var sum = lhs
        sum += rhs
        return sum
    }

    var grdb: StatementArguments { StatementArguments(values) }
}

/// The connection inside one read or write transaction.
public final class StoreConnection {
    enum Backend {
        case sqlite(Database)
        case postgres(PostgresSession)
    }

    let backend: Backend
    private var lastChanges = 0
    private var savepoints = 0
    /// This transaction's INSERT, UPDATE and DELETE statements on SQLite, prepared once each (see `runDirect`).
    private var direct: [String: OpaquePointer] = [:]
    /// Job history rows of this transaction not yet written (see `appendEvent`).
    private var pendingEvents: [JobEventRow] = []

    init(_ backend: Backend) {
        self.backend = backend
    }

    deinit {
        for statement in direct.values { sqlite3_finalize(statement) }
    }

    public var dialect: StoreDialect {
        switch backend {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }

    /// ` FOR UPDATE SKIP LOCKED` on PostgreSQL (rows another node is claiming are passed over), nothing on SQLite
    /// (one writer at a time: nobody else is claiming).
    public var skipLocked: String { Self.skipLocked(dialect) }

    static func skipLocked(_ dialect: StoreDialect) -> String {
        dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
    }

    /// The SQLite connection, for the few SQLite-only paths (bulk inserts through the C API); nil on PostgreSQL.
    var sqlite: Database? {
        if case .sqlite(let db) = backend { return db }
        return nil
    }

    /// Runs one statement.
    public func execute(sql: String, arguments: StoreArguments = []) throws {
        switch backend {
        case .sqlite(let db):
            if try !runDirect(sql, arguments.values, db) { try db.cachedStatement(sql: sql).execute(arguments: arguments.grdb) }
            lastChanges = db.changesCount
        case .postgres(let session):
            lastChanges = try session.run(sql, arguments.values).changes
        }
    }

    /// Runs an INSERT, UPDATE or DELETE through SQLite's C API on a statement prepared once per transaction, binding
    /// the values directly; false (nothing run) for any other statement, which GRDB runs.
    ///
    /// Why: the ledger's commits run the same dozen statements thousands of times (a routed manifest enqueues six
    /// deliveries, each inserted, leased and completed with its history), and GRDB's execution path per statement
    /// (arguments re-boxed, region and observation bookkeeping we do not use) cost about as much as SQLite's own
    /// work, as it did for the library's rows (`RawInsert`). Data statements only: they change no schema and no
    /// transaction state, so GRDB's view of the connection stays true; an error is GRDB's `DatabaseError`.
    private func runDirect(_ sql: String, _ values: [DatabaseValue], _ db: Database) throws -> Bool {
        guard let connection = db.sqliteConnection else { return false }
        try Self.requireTransaction(connection, sql: sql)
        let statement: OpaquePointer
        if let prepared = direct[sql] {
            statement = prepared
        } else {
            guard Self.isDataStatement(sql) else { return false }
            var prepared: OpaquePointer?
            let code = sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
            guard code == SQLITE_OK, let prepared else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
            }
            direct[sql] = prepared
            statement = prepared
        }
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        guard Int(sqlite3_bind_parameter_count(statement)) == values.count else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "\(values.count) arguments for \(sqlite3_bind_parameter_count(statement)) parameters", sql: sql)
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value.storage {
            case .null: sqlite3_bind_null(statement, index)
            case .int64(let number): sqlite3_bind_int64(statement, index, number)
            case .double(let number): sqlite3_bind_double(statement, index, number)
            case .string(let text): RawInsert.bindText(statement, index, text)
            case .blob(let data):
                data.withUnsafeBytes { bytes in
                    _ = sqlite3_bind_blob(statement, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(bytes.count),
                                          RawInsert.transient)
                }
            }
        }
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_DONE: return true
            case SQLITE_ROW: continue
            case let code:
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
            }
        }
    }

    /// Throws SQLITE_ABORT when `connection` is out of its transaction: SQLite may roll the whole transaction back on
    /// its own (a full disk, an I/O error). GRDB refuses statements after that; the statements run on the C API
    /// (`runDirect`, `RawInsert`) must too, or they would commit alone, outside the transaction.
    static func requireTransaction(_ connection: OpaquePointer, sql: String) throws {
        guard sqlite3_get_autocommit(connection) == 0 else {
            throw DatabaseError(resultCode: .SQLITE_ABORT, message: "the transaction was rolled back; not run", sql: sql)
        }
    }

    /// INSERT, UPDATE or DELETE (after leading white space), in any case.
    static func isDataStatement(_ sql: String) -> Bool {
        let word = sql.drop(while: \.isWhitespace).prefix(6).uppercased()
        return word == "INSERT" || word == "UPDATE" || word == "DELETE"
    }

    /// Rows changed by the last `execute`.
    public func changes() -> Int { lastChanges }

    /// The rows of a query.
    public func rows(sql: String, arguments: StoreArguments = []) throws -> [Row] {
        switch backend {
        case .sqlite(let db): try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments.grdb)
        case .postgres(let session): try session.run(sql, arguments.values).rows
        }
    }

    /// Runs an INSERT into a table with an `id` key and returns the id it gave the row (on PostgreSQL with
    /// `RETURNING id`, in the same round trip).
    public func insert(sql: String, arguments: StoreArguments = []) throws -> Int64 {
        switch backend {
        case .sqlite(let db):
            if try !runDirect(sql, arguments.values, db) { try db.cachedStatement(sql: sql).execute(arguments: arguments.grdb) }
            lastChanges = db.changesCount
            return db.lastInsertedRowID
        case .postgres(let session):
            let result = try session.run(sql + " RETURNING id", arguments.values)
            guard let id = result.scalar(Int64.self) else { throw StoreError(.corrupt, "no row id after: \(sql)") }
            return id
        }
    }

    /// The store's words when `error` is a broken integrity constraint (SQLite's SQLITE_CONSTRAINT, PostgreSQL's
    /// class 23: unique, check, foreign key, not null); nil for any other error.
    static func constraintViolation(_ error: Error) -> String? {
        if let error = error as? DatabaseError, error.resultCode == .SQLITE_CONSTRAINT { return error.message ?? "\(error.resultCode)" }
        if let error = error as? PostgresQueryError, error.sqlState?.hasPrefix("23") == true { return error.message }
        return nil
    }

    /// One row of job history, as `appendEvent` was given it.
    struct JobEventRow {
        var jobId: Int64
        var at: Date
        var from: String?
        var to: String
        var message: String?
    }

    /// Adds a row of job history, written with the others of the transaction by `writePendingEvents` before it commits
    /// (`StoreDatabase.write` sees to it), and dropped with the savepoint it was added in if that is undone.
    ///
    /// Why not at once: a chunk's commit or lease adds a history row for every job it inserts, leases and completes
    /// (three for most jobs, 16 000 for a routed run of 1 000 manifests), and one INSERT a row cost more than
    /// SQLite's work for the row. History is only read in other transactions (`jobs show`, `trace`, `stats`).
    func appendEvent(_ event: JobEventRow) {
        pendingEvents.append(event)
    }

    /// Writes the pending job history, many rows a statement, in the order it was added.
    func writePendingEvents() throws {
        guard !pendingEvents.isEmpty else { return }
        let events = pendingEvents
        pendingEvents.removeAll()
        try RowsInsert(self, into: "job_event (job_id, at, from_state, to_state, message)", row: "(?, ?, ?, ?, ?)")
            .insert(events) { insert, event in
                insert.bind(event.jobId)
                insert.bind(event.at)
                insert.bind(event.from)
                insert.bind(event.to)
                insert.bind(event.message)
            }
    }

    /// Runs `body` in a savepoint: undone alone when it throws or returns `.rollback`, the transaction going on.
    public func inSavepoint(_ body: () throws -> Database.TransactionCompletion) throws {
        // The history the body adds goes with it when it is undone.
        let mark = pendingEvents.count
        func dropHistory() { pendingEvents.removeSubrange(min(mark, pendingEvents.count)...) }
        do {
            try savepoint {
                let completion = try body()
                if completion == .rollback { dropHistory() }
                return completion
            }
        } catch {
            dropHistory()
            throw error
        }
    }

    private func savepoint(_ body: () throws -> Database.TransactionCompletion) throws {
        switch backend {
        case .sqlite(let db):
            // Outside a transaction GRDB opens one (IMMEDIATE) instead of a top-level savepoint: its way, kept, with
            // the history written inside it.
            guard db.isInsideTransaction else {
                return try db.inSavepoint {
                    let completion = try body()
                    if completion == .commit { try self.writePendingEvents() }
                    return completion
                }
            }
            // What GRDB's `inSavepoint` runs, on statements prepared once per connection: GRDB compiles its three
            // statements again for every savepoint, and a routed run takes thousands (each filing, each job of a
            // commit). GRDB still sees the savepoint statements run, as any statement.
            try db.cachedStatement(sql: "SAVEPOINT swg").execute()
            let completion: Database.TransactionCompletion
            do {
                completion = try body()
            } catch {
                try? db.cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT swg").execute()
                try? db.cachedStatement(sql: "RELEASE SAVEPOINT swg").execute()
                throw error
            }
            if completion == .rollback { try db.cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT swg").execute() }
            try db.cachedStatement(sql: "RELEASE SAVEPOINT swg").execute()
        case .postgres(let session):
            savepoints += 1
            let name = "sp\(savepoints)"
            defer { savepoints -= 1 }
            try session.run("SAVEPOINT \(name)")
            let completion: Database.TransactionCompletion
            do {
                completion = try body()
            } catch let error as PostgresQueryError where error.mustRetryTransaction {
                throw error  // the whole transaction is run again; undoing this part alone would not do
            } catch {
                try session.run("ROLLBACK TO SAVEPOINT \(name)")
                try session.run("RELEASE SAVEPOINT \(name)")
                throw error
            }
            if completion == .rollback { try session.run("ROLLBACK TO SAVEPOINT \(name)") }
            try session.run("RELEASE SAVEPOINT \(name)")
        }
    }
}

extension StoreConnection {
    /// The length of the JSON array under `key` of the JSON text in `column`.
    func jsonArrayLength(_ column: String, key: String) -> String {
        dialect == .postgres ? "json_array_length(\(column)::json -> '\(key)')" : "json_array_length(\(column), '$.\(key)')"
    }

    /// Seconds from the time `earlier` to the time `later` (both SQL expressions of the store's text timestamps).
    func secondsBetween(_ later: String, _ earlier: String) -> String {
        dialect == .postgres ? "EXTRACT(EPOCH FROM ((\(later))::timestamp - (\(earlier))::timestamp))"
            : "(julianday((\(later))) - julianday((\(earlier)))) * 86400.0"
    }
}

/// Row ids written into an IN list (`1,2,3`; `NULL`, which matches nothing, for none: `IN ()` is SQLite's only).
func storeIdList(_ ids: some Collection<Int64>) -> String {
    ids.isEmpty ? "NULL" : ids.map(String.init).joined(separator: ",")
}

/// `?, ?, ?` for an IN list of `count` values.
func storeQuestionMarks(count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ", ")
}

extension FetchableRecord {
    static func fetchAll(_ db: StoreConnection, sql: String, arguments: StoreArguments = []) throws -> [Self] {
        switch db.backend {
        case .sqlite(let sqlite): try fetchAll(sqlite.cachedStatement(sql: sql), arguments: arguments.grdb)
        case .postgres: try db.rows(sql: sql, arguments: arguments).map { try Self(row: $0) }
        }
    }

    static func fetchOne(_ db: StoreConnection, sql: String, arguments: StoreArguments = []) throws -> Self? {
        switch db.backend {
        case .sqlite(let sqlite): try fetchOne(sqlite.cachedStatement(sql: sql), arguments: arguments.grdb)
        case .postgres: try db.rows(sql: sql, arguments: arguments).first.map { try Self(row: $0) }
        }
    }
}

extension Row {
    static func fetchAll(_ db: StoreConnection, sql: String, arguments: StoreArguments = []) throws -> [Row] {
        try db.rows(sql: sql, arguments: arguments)
    }

    static func fetchOne(_ db: StoreConnection, sql: String, arguments: StoreArguments = []) throws -> Row? {
        switch db.backend {
        case .sqlite(let sqlite): try fetchOne(sqlite.cachedStatement(sql: sql), arguments: arguments.grdb)
        case .postgres: try db.rows(sql: sql, arguments: arguments).first
        }
    }
}

extension DatabaseValueConvertible where Self: StatementColumnConvertible {
    /// The first column of each row.
    static func fetchAll(_ db: StoreConnection, sql: String, arguments: StoreArguments = []) throws -> [Self] {
        switch db.backend {
        case .sqlite(let sqlite): return try fetchAll(sqlite.cachedStatement(sql: sql), arguments: arguments.grdb)
        case .postgres(let session):
            return try session.run(sql, arguments.values).values.map { row in
                let first = row.first ?? .null
                guard let value = Self.fromDatabaseValue(first) else {
                    throw StoreError(.corrupt, "unexpected \(first) for \(Self.self) in: \(sql)")
                }
                return value
            }
        }
    }

    /// The first column of the first row; nil when there is no row or the value is NULL.
    static func fetchOne(_ db: StoreConnection, sql: String, arguments: StoreArguments = []) throws -> Self? {
        switch db.backend {
        case .sqlite(let sqlite): return try fetchOne(sqlite.cachedStatement(sql: sql), arguments: arguments.grdb)
        case .postgres(let session):
            guard let first = try session.run(sql, arguments.values).values.first?.first, !first.isNull else { return nil }
            guard let value = Self.fromDatabaseValue(first) else {
                throw StoreError(.corrupt, "unexpected \(first) for \(Self.self) in: \(sql)")
            }
            return value
        }
    }
}

/// The store's database: a SQLite file (GRDB's pool: one writer, concurrent readers) or a PostgreSQL server (one
/// connection per node; transactions serializable, run again when another node's conflicted).
final class StoreDatabase: Sendable {
    enum Kind: Sendable {
        case sqlite(DatabasePool)
        case postgres(PostgresSession)
    }

    let kind: Kind

    init(_ kind: Kind) {
        self.kind = kind
    }

    var dialect: StoreDialect {
        switch kind {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }

    /// Runs `body` in one write transaction. On PostgreSQL it may run more than once (see `PostgresSession`), so it
    /// does nothing outside the database that a second run would repeat.
    ///
    /// `queue`: on PostgreSQL, the transaction claims rows with `FOR UPDATE SKIP LOCKED` (`skipLocked`) and runs at
    /// READ COMMITTED, the isolation that clause is made for: nodes claiming at once take different rows instead
    /// of failing each other's transactions.
    func write<T>(queue: Bool = false, _ body: (StoreConnection) throws -> T) throws -> T {
        func run(_ connection: StoreConnection) throws -> T {
            let result = try body(connection)
            try connection.writePendingEvents()
            return result
        }
        switch kind {
        case .sqlite(let pool): return try pool.write { db in try run(StoreConnection(.sqlite(db))) }
        case .postgres(let session):
            return try session.transaction(writing: true, readCommitted: queue) { try run(StoreConnection(.postgres(session))) }
        }
    }

    /// Runs `body` in one read-only transaction (a consistent snapshot).
    func read<T>(_ body: (StoreConnection) throws -> T) throws -> T {
        switch kind {
        case .sqlite(let pool): try pool.read { db in try body(StoreConnection(.sqlite(db))) }
        case .postgres(let session): try session.transaction(writing: false) { try body(StoreConnection(.postgres(session))) }
        }
    }
}

/// Rows read one at a time: SQLite steps its statement (memory stays flat however many rows the query finds);
/// PostgreSQL's rows have arrived whole (a window of the ledger: thousands, not millions).
enum StoreRowCursor {
    case sqlite(RowCursor)
    case rows(IndexingIterator<[Row]>)

    /// The next row (on SQLite, valid until the next call: copy what you keep).
    mutating func next() throws -> Row? {
        switch self {
        case .sqlite(let cursor): return try cursor.next()
        case .rows(var iterator):
            let row = iterator.next()
            self = .rows(iterator)
            return row
        }
    }
}

extension Row {
    static func fetchCursor(_ db: StoreConnection, sql: String, arguments: StoreArguments = []) throws -> StoreRowCursor {
        switch db.backend {
        case .sqlite(let sqlite): .sqlite(try fetchCursor(sqlite.cachedStatement(sql: sql), arguments: arguments.grdb))
        case .postgres: .rows(try db.rows(sql: sql, arguments: arguments).makeIterator())
        }
    }
}
