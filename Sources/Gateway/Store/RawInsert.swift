import Foundation
import GRDB
import GRDBSQLite

/// One INSERT prepared on the writer's connection and run through SQLite's C API, for the library's bulk rows.
///
/// Why not GRDB's `cachedStatement(...).execute(arguments:)`, as everywhere else: filing a 50-consignment manifest
/// writes about 200 rows (consignments, goods items, container uses), and GRDB's argument path (an array of
/// `DatabaseValueConvertible` existentials turned into `DatabaseValue`s, then bound inside nested closures) cost
/// more per row than SQLite's own insert. Binding straight from the Swift values costs a fraction of it. Only
/// plain INSERTs into tables nothing observes go this way; GRDB still owns the connection and the transaction.
///
/// On PostgreSQL the same calls collect the values and run the insert through the store's connection.
final class RawInsert {
    private let statement: OpaquePointer?
    private let connection: OpaquePointer?
    private let postgres: StoreConnection?
    private var values: [DatabaseValue] = []
    private let sql: String
    private let returnsId: Bool
    private var index: Int32 = 0

    /// `returnsId`: `run` returns the new row's id (its table has an `id` key).
    init(_ store: StoreConnection, sql: String, returnsId: Bool = false) throws {
        self.sql = sql
        self.returnsId = returnsId
        guard let db = store.sqlite else {
            (statement, connection, postgres) = (nil, nil, store)
            return
        }
        postgres = nil
        guard let connection = db.sqliteConnection else { throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "connection closed") }
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
        }
        self.statement = statement
        self.connection = connection
    }

    deinit { if let statement { sqlite3_finalize(statement) } }

    /// Binds the next parameter (in order, from the first).
    func bind(_ value: String?) {
        guard let statement else { values.append(value?.databaseValue ?? .null); return }
        index += 1
        guard let value else { sqlite3_bind_null(statement, index); return }
        Self.bindText(statement, index, value)
    }

    /// SQLITE_TRANSIENT: SQLite copies text and blobs before the Swift buffers go away.
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Binds `value` as TEXT at `index` (also for `StoreConnection`'s statements).
    static func bindText(_ statement: OpaquePointer, _ index: Int32, _ value: String) {
        var value = value
        value.withUTF8 { bindUTF8(statement, index, $0) }
    }

    /// Binds UTF-8 bytes as TEXT at `index`; SQLite copies them.
    private static func bindUTF8(_ statement: OpaquePointer, _ index: Int32, _ text: UnsafeBufferPointer<UInt8>) {
        text.withMemoryRebound(to: CChar.self) { chars in
            // An empty buffer may have no address, and a null pointer would bind NULL rather than ''.
            if let base = chars.baseAddress {
                _ = sqlite3_bind_text(statement, index, base, Int32(chars.count), transient)
            } else {
                _ = sqlite3_bind_text(statement, index, "", 0, transient)
            }
        }
    }

    /// Binds UTF-8 `bytes` as TEXT (no `String` made of them).
    func bind(utf8 bytes: [UInt8]) {
        guard let statement else { values.append(String(decoding: bytes, as: UTF8.self).databaseValue); return }
        index += 1
        bytes.withUnsafeBufferPointer { Self.bindUTF8(statement, index, $0) }
    }

    /// Binds a date as the store writes dates (`StoreDate`).
    func bind(_ value: Date) {
        let text = StoreDate.databaseValue(value)
        guard let statement else { values.append(text); return }
        index += 1
        if let string = String.fromDatabaseValue(text) { Self.bindText(statement, index, string) } else { sqlite3_bind_null(statement, index) }
    }

    func bind(_ value: Int64?) {
        guard let statement else { values.append(value?.databaseValue ?? .null); return }
        index += 1
        if let value { sqlite3_bind_int64(statement, index, value) } else { sqlite3_bind_null(statement, index) }
    }

    func bind(_ value: Int?) { bind(value.map(Int64.init)) }

    func bind(_ value: Double?) {
        guard let statement else { values.append(value?.databaseValue ?? .null); return }
        index += 1
        if let value { sqlite3_bind_double(statement, index, value) } else { sqlite3_bind_null(statement, index) }
    }

    /// Runs the insert with the parameters bound since the last run, and returns the new row's id (with `returnsId`).
    @discardableResult
    func run() throws -> Int64 {
        guard let statement, let connection else {
            defer { values.removeAll(keepingCapacity: true) }
            if returnsId { return try postgres!.insert(sql: sql, arguments: StoreArguments(values)) }
            try postgres!.execute(sql: sql, arguments: StoreArguments(values))
            return 0
        }
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
            index = 0
        }
        try StoreConnection.requireTransaction(connection, sql: sql)
        let code = sqlite3_step(statement)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
        }
        return sqlite3_last_insert_rowid(connection)
    }
}
