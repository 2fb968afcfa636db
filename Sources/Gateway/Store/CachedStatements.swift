import GRDB

// The ledger's statements through each connection's statement cache. GRDB's `execute(sql:)` and
// `fetchOne(db, sql:)` compile (and authorize) the SQL on every call, which was a third of the pipeline's CPU
// time per file; a chunk runs the same dozen statements hundreds of times.

extension Database {
    /// `execute(sql:arguments:)` with the statement compiled once per connection.
    func cachedExecute(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}

extension FetchableRecord {
    /// `fetchOne(db, sql:arguments:)` through the statement cache.
    static func fetchOneCached(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments())
        throws -> Self?
    {
        try fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    /// `fetchAll(db, sql:arguments:)` through the statement cache.
    static func fetchAllCached(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments())
        throws -> [Self]
    {
        try fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }
}

extension Row {
    /// `Row.fetchAll(db, sql:arguments:)` through the statement cache.
    static func fetchAllCached(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments())
        throws -> [Row]
    {
        try fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }

    /// `Row.fetchOne(db, sql:arguments:)` through the statement cache.
    static func fetchOneCached(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments())
        throws -> Row?
    {
        try fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }
}

extension DatabaseValueConvertible where Self: StatementColumnConvertible {
    /// `fetchAll(db, sql:arguments:)` through the statement cache.
    static func fetchAllCached(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments())
        throws -> [Self]
    {
        try fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }

    /// `fetchOne(db, sql:arguments:)` through the statement cache.
    static func fetchOneCached(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments())
        throws -> Self?
    {
        try fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }
}
