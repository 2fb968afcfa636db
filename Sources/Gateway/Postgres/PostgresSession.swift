import Foundation
import GRDB
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

// One node's connection to the shared PostgreSQL, used synchronously by the store (the pipeline calls the store
// from worker threads, as it does SQLite through GRDB). postgres-nio runs the connection on its own event loop;
// a call here waits for its future, so it must never run on that loop (it does not: the store is called from
// the pipeline's threads and from tasks of the cooperative pool).
//
// Values cross as GRDB's `DatabaseValue`, so the store's SQL, arguments and rows are the same types on both
// stores; only this file knows PostgreSQL's wire types. Hand-written because postgres-nio has no synchronous API
// and no driver here maps between the two.

/// A synchronous PostgreSQL connection: queries with `?` placeholders, transactions with retries.
final class PostgresSession: @unchecked Sendable {
    let settings: PostgresSettings
    /// Replaced when the server ends it (a restart, a failover, `pg_terminate_backend`): see `reconnectIfClosed`.
    private var connection: PostgresConnection
    private let logger: Logger
    /// The advisory locks this node holds, taken again on a new connection (the server dropped them with the old).
    private var heldLocks: Set<String> = []
    /// True between BEGIN and COMMIT/ROLLBACK: a connection lost then took the transaction with it.
    private var inTransaction = false
    /// One statement at a time on the connection, one transaction at a time per node (like SQLite's writer).
    private let lock = NSRecursiveLock()
    /// Placeholder rewrites, by SQL text (a store runs the same few dozen statements all day).
    private let rewritten = NIOLockedValueBox<[String: String]>([:])

    private init(settings: PostgresSettings, connection: PostgresConnection, logger: Logger) {
        self.settings = settings
        self.connection = connection
        self.logger = logger
    }

    deinit { try? connection.close().wait() }

    /// The connection's settings for postgres-nio (the password read from its file or variable now).
    static func configuration(_ settings: PostgresSettings) throws -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.user, password: try settings.password(),
            database: settings.database, tls: .disable)
        if settings.tls == .require {
            var tls = TLSConfiguration.makeClientConfiguration()
            if let ca = settings.tlsCAFile { tls.trustRoots = .file(ca) }
            do {
                configuration.tls = .require(try NIOSSLContext(configuration: tls))
            } catch {
                throw PostgresStoreError(code: "postgres.tls", message: "cannot set up TLS for \(settings.description): \(error)")
            }
        }
        configuration.options.connectTimeout = .seconds(Int64(settings.connectTimeoutSeconds))
        return configuration
    }

    /// Connects (blocking the calling thread, never an event loop's).
    static func connect(_ settings: PostgresSettings, logger: Logger = Logger(label: "gateway.postgres")) throws -> PostgresSession {
        PostgresSession(settings: settings, connection: try open(settings, logger: logger), logger: logger)
    }

    private static func open(_ settings: PostgresSettings, logger: Logger) throws -> PostgresConnection {
        let configuration = try configuration(settings)
        do {
            return try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 1, logger: logger
            ).wait()
        } catch {
            throw PostgresStoreError(code: "postgres.connect", message: "cannot connect to \(settings.description): \(reason(error))")
        }
    }

    /// A connection the server ended is replaced before the next statement, so a node outlives a server restart
    /// or failover: its calls fail while the server is away (each tries to connect once, within the connect
    /// timeout), and work again once it is back. Not inside a transaction: that died with the connection, and
    /// `transaction` runs it again from BEGIN. Advisory locks are taken again; one another node took meanwhile is
    /// that node's now, and its work may overlap this node's once (singleton work is safe to overlap: claims are
    /// atomic and the ledger's keys refuse doubles; the lock only keeps nodes from doing it twice over).
    private func reconnectIfClosed() throws {
        guard connection.isClosed else { return }
        if inTransaction {
            // Not sent: postgres-nio drops a query written to a closed channel without ever answering it.
            throw PostgresQueryError.lost("the connection was lost")
        }
        connection = try Self.open(settings, logger: logger)
        logger.warning("reconnected to PostgreSQL", metadata: ["server": "\(settings.description)"])
        for name in heldLocks where try !takeLock(name) {
            heldLocks.remove(name)
            logger.warning("an advisory lock went to another node while reconnecting", metadata: ["lock": "\(name)"])
        }
    }

    /// What a PostgreSQL error says (the server's message, not the driver's generic text).
    static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying { return "\(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }

    /// Whether `error` ended the connection: the server closed it or shut down (SQLSTATE class 57P, 08), or the
    /// network failed.
    static func isConnectionLoss(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        if [.serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown].contains(error.code) { return true }
        let state = error.serverInfo?[.sqlState] ?? ""
        return state.hasPrefix("57P") || state.hasPrefix("08")
    }

    /// The SQLSTATE of a server error (e.g. 40001 for a serialization failure).
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    // MARK: - Statements

    /// What one statement returned: its columns' names, its rows' values in column order, the rows it changed.
    struct Result {
        var columns: [String] = []
        var values: [[DatabaseValue]] = []
        var changes = 0

        /// The first column of the first row, as an integer, text... (nil when there is no row).
        func scalar<T: DatabaseValueConvertible>(_ type: T.Type = T.self) -> T? {
            values.first?.first.flatMap(T.fromDatabaseValue)
        }

        /// The rows as GRDB rows, so record types decode the same on both stores (looked up by column name).
        var rows: [Row] {
            values.map { row in
                var dictionary: [String: (any DatabaseValueConvertible)?] = [:]
                for (name, value) in zip(columns, row) { dictionary[name] = value }
                return Row(dictionary)
            }
        }
    }

    /// Runs one statement with `?` placeholders and waits for its answer.
    ///
    /// One round trip per statement: postgres-nio sends a query only when the one before is answered. Measured
    /// (300 manifests, one node): more than a third of both cores idle, waiting. Sending a transaction's writes
    /// together in one anonymous code block (`DO`, the arguments written in as literals) was slower still: the
    /// server then parses and plans each block's text anew.
    @discardableResult
    func run(_ sql: String, _ arguments: [DatabaseValue] = []) throws -> Result {
        lock.lock()
        defer { lock.unlock() }
        try reconnectIfClosed()
        let answer: PostgresQueryResult
        do {
            answer = try waitFor(connection.query(query(sql, arguments), logger: logger))
        } catch {
            throw PostgresQueryError(sql: sql, sqlState: Self.sqlState(error), message: Self.reason(error),
                                     connectionLost: connection.isClosed || Self.isConnectionLoss(error))
        }
        var result = Result(changes: answer.metadata.rows ?? 0)
        result.values.reserveCapacity(answer.rows.count)
        for row in answer.rows {
            if result.columns.isEmpty { result.columns = row.map(\.columnName) }
            result.values.append(try row.map(Self.value))
        }
        return result
    }

    /// Waits for a statement's answer. postgres-nio (1.x) never answers a query written just as the channel
    /// closed (it writes with no promise), so a wait on a closed connection ends a few seconds after the close
    /// was seen, as a lost connection; on an open one it waits as long as the statement takes.
    private func waitFor(_ future: EventLoopFuture<PostgresQueryResult>) throws -> PostgresQueryResult {
        let done = DispatchSemaphore(value: 0)
        let outcome = NIOLockedValueBox<Swift.Result<PostgresQueryResult, any Error>?>(nil)
        future.whenComplete { result in
            outcome.withLockedValue { $0 = result }
            done.signal()
        }
        var closedAt: DispatchTime?
        while done.wait(timeout: .now() + .milliseconds(500)) == .timedOut {
            guard connection.isClosed else { continue }
            let seen = closedAt ?? .now()
            closedAt = seen
            if DispatchTime.now() > seen + .seconds(3) {
                throw PostgresQueryError.lost("the connection was lost; no answer came")
            }
        }
        return try outcome.withLockedValue { $0! }.get()
    }

    private func query(_ sql: String, _ arguments: [DatabaseValue]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: arguments.count)
        for value in arguments {
            switch value.storage {
            case .null: bindings.appendNull()
            case .int64(let v): bindings.append(v)
            case .double(let v): bindings.append(v)
            case .string(let v): bindings.append(Self.storable(v))
            case .blob(let v): bindings.append(ByteBuffer(bytes: v))
            }
        }
        return PostgresQuery(unsafeSQL: placeholders(sql), binds: bindings)
    }

    /// PostgreSQL text cannot hold NUL (SQLSTATE 22021), which SQLite stores: a NUL byte a partner put in a header
    /// or a name is written as U+2400 (SYMBOL FOR NULL), so the file is recorded and answered, and an operator sees
    /// where the NUL was.
    static func storable(_ text: String) -> String {
        text.utf8.contains(0) ? text.replacingOccurrences(of: "\u{0}", with: "\u{2400}") : text
    }

    /// `?` placeholders (the store's SQL, written for SQLite) as PostgreSQL's `$1, $2...`, outside quotes.
    private func placeholders(_ sql: String) -> String {
        if let done = rewritten.withLockedValue({ $0[sql] }) { return done }
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var n = 0
        var quote: Character?
        var numbered = false
        for c in sql {
            if numbered, !(c.isASCII && c.isNumber) {
                // The `?` just written had no number: it is the next one.
                if out.last == "$" { n += 1; out += "\(n)" }
                numbered = false
            }
            if let q = quote {
                if c == q { quote = nil }
                out.append(c)
            } else if c == "'" || c == "\"" {
                quote = c
                out.append(c)
            } else if c == "?" {
                numbered = true
                out += "$"
            } else if numbered, c.isASCII, c.isNumber {
                out.append(c)  // `?1`, SQLite's numbered parameter, is `$1`
            } else {
                out.append(c)
            }
        }
        if numbered, out.last == "$" { n += 1; out += "\(n)" }
        rewritten.withLockedValue { $0[sql] = out }
        return out
    }

    /// A cell as the value SQLite would have given: integers, reals, text, blobs.
    private static func value(_ cell: PostgresCell) throws -> DatabaseValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return try cell.decode(Int64.self).databaseValue
        case .float4, .float8: return try cell.decode(Double.self).databaseValue
        case .bool: return (try cell.decode(Bool.self) ? 1 : 0).databaseValue
        case .numeric:
            let decimal = try cell.decode(Decimal.self)
            let double = NSDecimalNumber(decimal: decimal).doubleValue
            if double.rounded() == double, abs(double) < 9e15 { return Int64(double).databaseValue }
            return double.databaseValue
        case .bytea:
            let buffer = try cell.decode(ByteBuffer.self)
            return Data(buffer.readableBytesView).databaseValue
        default: return try cell.decode(String.self).databaseValue
        }
    }

    // MARK: - Transactions

    /// Runs `body` in a transaction (`SERIALIZABLE` when writing), committed when it returns. A transaction the
    /// server aborted because another node's conflicted with it (serialization failure, deadlock) is run again
    /// from the start, so writers on several nodes behave as if they took turns, as SQLite's one writer does.
    /// `readCommitted`: each statement sees what committed before it (for work serialized by a lock it takes).
    /// A transaction whose connection was lost before COMMIT is run again on a new one; lost during COMMIT, it
    /// fails (whether it committed cannot be known), as a crash at that instant would.
    func transaction<T>(writing: Bool, readCommitted: Bool = false, _ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        var attempt = 0
        while true {
            attempt += 1
            do {
                try run(readCommitted ? "BEGIN ISOLATION LEVEL READ COMMITTED"
                        : writing ? "BEGIN ISOLATION LEVEL SERIALIZABLE" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                inTransaction = true
                let value = try body()
                if connection.isClosed {  // lost inside the body, where an error was handled: nothing committed
                    throw PostgresQueryError.lost("the connection was lost")
                }
                do {
                    try run("COMMIT")
                } catch var error as PostgresQueryError where error.connectionLost {
                    error.duringCommit = true
                    throw error
                }
                inTransaction = false
                return value
            } catch {
                if !connection.isClosed { _ = try? run("ROLLBACK") }
                inTransaction = false
                if (error as? PostgresQueryError)?.mustRetryTransaction == true, attempt < 50 {
                    // Back off a little, more each time, so the nodes that collided do not collide again.
                    usleep(UInt32.random(in: 0...(UInt32(min(attempt, 10)) * 2_000)))
                    continue
                }
                throw error
            }
        }
    }

    // MARK: - Advisory locks

    /// Takes the session advisory lock `name` if no other node holds it (true also when this node does). Held until
    /// `unlock` or until the connection closes (the node stops or dies).
    func tryLock(_ name: String) throws -> Bool {
        lock.lock()
        defer { lock.unlock() }
        try reconnectIfClosed()
        let taken: Bool
        do {
            taken = try takeLock(name)
        } catch let error as PostgresQueryError where error.connectionLost {
            taken = try takeLock(name)  // the connection had ended unnoticed; a lock dies with it, so ask again
        }
        guard taken else { return false }
        heldLocks.insert(name)
        return true
    }

    private func takeLock(_ name: String) throws -> Bool {
        try run("SELECT pg_try_advisory_lock(hashtextextended(?, 0))", [name.databaseValue]).scalar(Int64.self) == 1
    }

    func unlock(_ name: String) throws {
        lock.lock()
        defer { lock.unlock() }
        heldLocks.remove(name)
        try run("SELECT pg_advisory_unlock(hashtextextended(?, 0))", [name.databaseValue])
    }
}

/// A statement PostgreSQL refused, with its SQLSTATE and the server's words.
struct PostgresQueryError: Error, CustomStringConvertible {
    var sql: String
    var sqlState: String?
    var message: String
    /// The connection ended with this statement (the next one connects again).
    var connectionLost = false
    /// ... and the statement was COMMIT: whether the transaction committed is unknown.
    var duringCommit = false

    /// The connection ended before an answer came (the statement was not sent, or its answer is lost).
    static func lost(_ message: String) -> PostgresQueryError {
        PostgresQueryError(sql: "", sqlState: nil, message: message, connectionLost: true)
    }

    var description: String {
        (duringCommit ? "postgres.commit-unknown: the connection was lost while committing, so whether the transaction "
                        + "committed is unknown: " : "postgres.query: ")
            + message + (sqlState.map { " (SQLSTATE \($0))" } ?? "")
    }

    /// Another node's transaction conflicted with this one (serialization failure, deadlock), or the connection was
    /// lost before COMMIT (the server rolled the transaction back): run it again.
    var mustRetryTransaction: Bool { sqlState == "40001" || sqlState == "40P01" || (connectionLost && !duringCommit) }
}
