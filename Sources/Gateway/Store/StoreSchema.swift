import GRDB

/// The ledger's schema as append-only, named migrations.
///
/// Rule: a migration is never edited once released; a change is a new migration appended here
/// (`v2_...`). Invariants live in the schema (NOT NULL, CHECK, UNIQUE, foreign keys, triggers),
/// so no code path, present or future, can write a ledger that breaks them.
enum StoreSchema {
    /// The migrator with every migration in order.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1_intake", migrate: v1Intake)
        migrator.registerMigration("v1_jobs", migrate: v1Jobs)
        migrator.registerMigration("v2_claims", migrate: v2Claims)
        migrator.registerMigration("v3_signatures", migrate: v3Signatures)
        migrator.registerMigration("v4_collected", migrate: v4Collected)
        migrator.registerMigration("v5_manifests", migrate: v5Manifests)
        migrator.registerMigration("v6_routing", migrate: v6Routing)
        migrator.registerMigration("v7_instructions", migrate: v7Instructions)
        migrator.registerMigration("v8_terminal_notices", migrate: v8TerminalNotices)
        migrator.registerMigration("v9_sweep_time", migrate: v9SweepTime)
        migrator.registerMigration("v10_check_comparisons", migrate: v10CheckComparisons)
        return migrator
    }

    // State lists are spelled out literally, not taken from the Swift enums: a released migration
    // must produce the same schema forever. A new state means a new migration rebuilding the table.
    private static let v1BatchStates = "'received', 'unpacked', 'accepted', 'rejected', 'quarantined', 'conflict'"
    private static let v1JobStates =
        "'queued', 'running', 'succeeded', 'failed', 'retrying', 'cancelled', 'quarantined'"

    /// Batches (one per dropped file or archive member), conflicts, replays and receipts.
    private static func v1Intake(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE batch (
                id INTEGER PRIMARY KEY,
                partner TEXT NOT NULL CHECK (partner <> ''),
                original_name TEXT NOT NULL CHECK (original_name <> ''),
                size INTEGER NOT NULL CHECK (size >= 0),
                mtime TEXT,
                sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
                interchange_ref TEXT CHECK (interchange_ref IS NULL OR interchange_ref <> ''),
                sender_id TEXT,
                received_at TEXT NOT NULL,
                parent_batch_id INTEGER REFERENCES batch(id) ON DELETE RESTRICT,
                member_name TEXT,
                state TEXT NOT NULL DEFAULT 'received' CHECK (state IN (\(v1BatchStates))),
                reason TEXT,
                updated_at TEXT NOT NULL,
                -- An archive member has both a parent and a name; a dropped file has neither.
                CHECK ((parent_batch_id IS NULL) = (member_name IS NULL)),
                -- A batch that did not make it has a reason an operator can read.
                CHECK (state NOT IN ('rejected', 'quarantined', 'conflict') OR reason IS NOT NULL)
            );
            -- Identity of a batch: partner + exact bytes (+ place in its archive). NULLs are folded so
            -- that two top-level drops of the same bytes collide; the renamed path is never part of it.
            CREATE UNIQUE INDEX batch_identity
                ON batch(partner, sha256, ifnull(parent_batch_id, 0), ifnull(member_name, ''));
            -- One accepted interchange per (partner, sender, reference): ISO 9735 duplicate detection.
            -- Rows in state 'conflict' are the rejected duplicates, kept for the operator.
            CREATE UNIQUE INDEX batch_interchange
                ON batch(partner, ifnull(sender_id, ''), interchange_ref)
                WHERE interchange_ref IS NOT NULL AND state <> 'conflict';
            CREATE INDEX batch_parent ON batch(parent_batch_id) WHERE parent_batch_id IS NOT NULL;
            CREATE INDEX batch_partner_received ON batch(partner, received_at);

            -- An archive member belongs to an archive of the same partner.
            CREATE TRIGGER batch_member_same_partner BEFORE INSERT ON batch
            WHEN NEW.parent_batch_id IS NOT NULL
                 AND (SELECT partner FROM batch WHERE id = NEW.parent_batch_id) IS NOT NEW.partner
            BEGIN SELECT RAISE(ABORT, 'archive member partner differs from its archive'); END;
            -- A batch's identity never changes after it is written.
            CREATE TRIGGER batch_identity_immutable BEFORE UPDATE OF
                partner, original_name, size, sha256, interchange_ref, sender_id, received_at,
                parent_batch_id, member_name ON batch
            BEGIN SELECT RAISE(ABORT, 'batch identity is immutable'); END;

            -- Same interchange reference, different bytes: rejected (CONTRL 0085 code 26) and shown to operators.
            CREATE TABLE conflict (
                id INTEGER PRIMARY KEY,
                partner TEXT NOT NULL,
                sender_id TEXT,
                interchange_ref TEXT NOT NULL,
                existing_batch_id INTEGER NOT NULL REFERENCES batch(id),
                batch_id INTEGER NOT NULL UNIQUE REFERENCES batch(id),
                detected_at TEXT NOT NULL,
                resolved_at TEXT,
                resolution TEXT,
                CHECK (existing_batch_id <> batch_id),
                CHECK ((resolved_at IS NULL) = (resolution IS NULL))
            );
            CREATE INDEX conflict_open ON conflict(partner) WHERE resolved_at IS NULL;

            -- Every arrival of bytes already in the ledger: acknowledged again, never reprocessed.
            CREATE TABLE replay (
                id INTEGER PRIMARY KEY,
                batch_id INTEGER NOT NULL REFERENCES batch(id),
                original_name TEXT NOT NULL,
                size INTEGER NOT NULL CHECK (size >= 0),
                mtime TEXT,
                received_at TEXT NOT NULL
            );
            CREATE INDEX replay_batch ON replay(batch_id);

            -- Receipts written for a batch: at most one of each kind, so a rerun never sends a second.
            CREATE TABLE receipt (
                id INTEGER PRIMARY KEY,
                batch_id INTEGER NOT NULL REFERENCES batch(id),
                kind TEXT NOT NULL CHECK (kind IN ('CONTRL', 'APERAK')),
                file_name TEXT NOT NULL CHECK (file_name <> ''),
                sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
                written_at TEXT NOT NULL,
                UNIQUE (batch_id, kind)
            );
            CREATE TRIGGER receipt_immutable BEFORE UPDATE ON receipt
            BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
            CREATE TRIGGER receipt_no_delete BEFORE DELETE ON receipt
            BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
            """)
    }

    /// The job ledger and its append-only history.
    private static func v1Jobs(_ db: Database) throws {
        let states = v1JobStates
        try db.execute(sql: """
            CREATE TABLE job (
                id INTEGER PRIMARY KEY,
                kind TEXT NOT NULL CHECK (kind <> ''),
                partner TEXT,
                batch_id INTEGER REFERENCES batch(id),
                idempotency_key TEXT UNIQUE,
                state TEXT NOT NULL CHECK (state IN (\(states))),
                attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
                next_run_at TEXT NOT NULL,
                lease_owner TEXT,
                lease_expires_at TEXT,
                error_code TEXT,
                error_message TEXT,
                input TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(input)),
                output TEXT CHECK (output IS NULL OR json_valid(output)),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                -- Exactly the running jobs hold a lease.
                CHECK ((state = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
                -- A job that gave up says why, with a stable code.
                CHECK (state NOT IN ('failed', 'quarantined', 'retrying') OR error_code IS NOT NULL)
            );
            CREATE INDEX job_due ON job(next_run_at) WHERE state IN ('queued', 'retrying');
            CREATE INDEX job_running ON job(lease_expires_at) WHERE state = 'running';
            CREATE INDEX job_partner_state ON job(partner, state);
            CREATE INDEX job_state_updated ON job(state, updated_at);
            CREATE INDEX job_batch ON job(batch_id) WHERE batch_id IS NOT NULL;

            CREATE TABLE job_event (
                id INTEGER PRIMARY KEY,
                job_id INTEGER NOT NULL REFERENCES job(id),
                at TEXT NOT NULL,
                from_state TEXT CHECK (from_state IS NULL OR from_state IN (\(states))),
                to_state TEXT NOT NULL CHECK (to_state IN (\(states))),
                message TEXT
            );
            CREATE INDEX job_event_job ON job_event(job_id, id);
            CREATE TRIGGER job_event_immutable BEFORE UPDATE ON job_event
            BEGIN SELECT RAISE(ABORT, 'job history is append-only'); END;
            CREATE TRIGGER job_event_no_delete BEFORE DELETE ON job_event
            BEGIN SELECT RAISE(ABORT, 'job history is append-only'); END;
            """)
    }

    /// Each arrival's claim (the work-area name the claim gave it) on the row it produced, unique, so a
    /// run that recovers a claimed file after a crash finds the row it already wrote instead of recording
    /// the same arrival again as a replay.
    static func v2Claims(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE batch ADD COLUMN claim TEXT;
            ALTER TABLE replay ADD COLUMN claim TEXT;
            CREATE UNIQUE INDEX batch_claim ON batch(claim) WHERE claim IS NOT NULL;
            CREATE UNIQUE INDEX replay_claim ON replay(claim) WHERE claim IS NOT NULL;
            """)
    }

    /// A batch's detached signature (stored in the raw store beside its bytes) and the evidence of every
    /// signature verdict: what was checked, against which agency's anchors, at which validation time, with
    /// which signer, chain and CRL, and the result. Append-only, so an auditor sees every verdict, reruns too.
    static func v3Signatures(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE batch ADD COLUMN signature_sha256 TEXT
                CHECK (signature_sha256 IS NULL OR (length(signature_sha256) = 64 AND signature_sha256 NOT GLOB '*[^0-9a-f]*'));
            ALTER TABLE batch ADD COLUMN signature_name TEXT;
            CREATE TABLE signature_verdict (
                id INTEGER PRIMARY KEY,
                batch_id INTEGER NOT NULL REFERENCES batch(id),
                job_id INTEGER REFERENCES job(id),
                format TEXT NOT NULL CHECK (format IN ('cms-detached', 'cms-enveloping', 'xmldsig', 'none')),
                valid INTEGER NOT NULL CHECK (valid IN (0, 1)),
                code TEXT,
                reason TEXT NOT NULL,
                partner_reason TEXT NOT NULL,
                signature_sha256 TEXT,
                signer_subject TEXT,
                signer_issuer TEXT,
                signer_serial TEXT,
                signer_fingerprint TEXT,
                chain_pem TEXT,
                crl_sha256 TEXT,
                algorithms TEXT,
                trust TEXT NOT NULL,
                validation_time TEXT NOT NULL,
                verified_at TEXT NOT NULL,
                -- A refusal says why with a stable code; an acceptance names its signer.
                CHECK (valid = 1 OR code IS NOT NULL),
                CHECK (valid = 0 OR signer_fingerprint IS NOT NULL)
            );
            CREATE INDEX signature_verdict_batch ON signature_verdict(batch_id, id);
            CREATE TRIGGER signature_verdict_immutable BEFORE UPDATE ON signature_verdict
            BEGIN SELECT RAISE(ABORT, 'signature evidence is append-only'); END;
            CREATE TRIGGER signature_verdict_no_delete BEFORE DELETE ON signature_verdict
            BEGIN SELECT RAISE(ABORT, 'signature evidence is append-only'); END;
            """)
    }

    /// When a delivered file was noticed gone from the partner's pickup directory (the partner deletes what
    /// it has read): one row per delivery job, written once.
    static func v4Collected(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE collected (
                job_id INTEGER PRIMARY KEY REFERENCES job(id),
                partner TEXT NOT NULL CHECK (partner <> ''),
                file_name TEXT NOT NULL CHECK (file_name <> ''),
                noticed_at TEXT NOT NULL
            );
            CREATE TRIGGER collected_immutable BEFORE UPDATE ON collected
            BEGIN SELECT RAISE(ABORT, 'collection records are append-only'); END;
            """)
    }

    /// The trade document library: manifests as filed (every version, append-only, with the canonical model
    /// as filed) and their current consignments, containers and goods, normalized for queries. One bill of
    /// lading per manifest; a replace or change never overwrites without the version that did it.
    static func v5Manifests(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE manifest (
                id INTEGER PRIMARY KEY,
                partner TEXT NOT NULL CHECK (partner <> ''),
                document_number TEXT NOT NULL CHECK (document_number <> ''),
                state TEXT NOT NULL CHECK (state IN ('active', 'cancelled')),
                current_version INTEGER NOT NULL CHECK (current_version >= 1),
                mode TEXT NOT NULL,
                voyage TEXT NOT NULL,
                means_id TEXT,
                means_name TEXT,
                departure_port TEXT,
                arrival_port TEXT,
                updated_at TEXT NOT NULL,
                UNIQUE (partner, document_number)
            );
            CREATE TABLE manifest_version (
                id INTEGER PRIMARY KEY,
                manifest_id INTEGER NOT NULL REFERENCES manifest(id),
                version INTEGER NOT NULL CHECK (version >= 1),
                function TEXT NOT NULL CHECK (function IN ('original', 'replace', 'change', 'cancel')),
                batch_id INTEGER REFERENCES batch(id),
                filed_at TEXT NOT NULL,
                model_json TEXT NOT NULL,
                UNIQUE (manifest_id, version)
            );
            CREATE TRIGGER manifest_version_immutable BEFORE UPDATE ON manifest_version
            BEGIN SELECT RAISE(ABORT, 'manifest versions are append-only'); END;
            CREATE TRIGGER manifest_version_no_delete BEFORE DELETE ON manifest_version
            BEGIN SELECT RAISE(ABORT, 'manifest versions are append-only'); END;
            CREATE TABLE consignment (
                id INTEGER PRIMARY KEY,
                manifest_id INTEGER NOT NULL REFERENCES manifest(id),
                bill_of_lading TEXT NOT NULL CHECK (bill_of_lading <> ''),
                master_bill TEXT,
                loading_port TEXT,
                discharge_port TEXT,
                state TEXT NOT NULL CHECK (state IN ('active', 'cancelled')),
                version INTEGER NOT NULL,
                UNIQUE (manifest_id, bill_of_lading)
            );
            CREATE INDEX consignment_bill ON consignment(bill_of_lading);
            CREATE TABLE goods_item (
                consignment_id INTEGER NOT NULL REFERENCES consignment(id) ON DELETE CASCADE,
                sequence INTEGER NOT NULL,
                description TEXT NOT NULL,
                hs_code TEXT CHECK (hs_code IS NULL OR (length(hs_code) BETWEEN 6 AND 10 AND hs_code NOT GLOB '*[^0-9]*')),
                packages INTEGER,
                package_type TEXT,
                gross_weight_kg REAL CHECK (gross_weight_kg IS NULL OR gross_weight_kg >= 0),
                un_numbers TEXT,
                PRIMARY KEY (consignment_id, sequence)
            );
            CREATE TABLE container_use (
                consignment_id INTEGER NOT NULL REFERENCES consignment(id) ON DELETE CASCADE,
                container TEXT NOT NULL CHECK (length(container) = 11),
                PRIMARY KEY (consignment_id, container)
            );
            CREATE INDEX container_use_container ON container_use(container);
            """)
    }

    /// Routing: what each filing's rules decided (every agency, selected or not, with reasons) and each copy
    /// routed to an agency (which rule, which consignments, the file and its delivery job's key). A copy is
    /// routed once per manifest version and agency; a rerun finds the row and the delivery key and adds nothing.
    static func v6Routing(_ db: Database) throws {
        try db.execute(sql: """
            CREATE INDEX manifest_version_batch ON manifest_version(batch_id) WHERE batch_id IS NOT NULL;
            CREATE TABLE routing_decision (
                manifest_id INTEGER NOT NULL REFERENCES manifest(id),
                version INTEGER NOT NULL,
                decided_at TEXT NOT NULL,
                decisions_json TEXT NOT NULL CHECK (json_valid(decisions_json)),
                PRIMARY KEY (manifest_id, version),
                FOREIGN KEY (manifest_id, version) REFERENCES manifest_version(manifest_id, version)
            );
            CREATE TABLE routed_copy (
                id INTEGER PRIMARY KEY,
                manifest_id INTEGER NOT NULL REFERENCES manifest(id),
                version INTEGER NOT NULL,
                batch_id INTEGER REFERENCES batch(id),
                agency TEXT NOT NULL CHECK (agency <> ''),
                format TEXT NOT NULL CHECK (format <> ''),
                function TEXT NOT NULL CHECK (function IN ('original', 'replace', 'change', 'cancel')),
                rule TEXT NOT NULL CHECK (rule <> ''),
                bills_json TEXT NOT NULL CHECK (json_valid(bills_json)),
                containers_json TEXT NOT NULL CHECK (json_valid(containers_json)),
                file_name TEXT NOT NULL CHECK (file_name <> ''),
                sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
                signed INTEGER NOT NULL CHECK (signed IN (0, 1)),
                deliver_key TEXT NOT NULL UNIQUE,
                routed_at TEXT NOT NULL,
                UNIQUE (manifest_id, version, agency),
                FOREIGN KEY (manifest_id, version) REFERENCES manifest_version(manifest_id, version)
            );
            CREATE INDEX routed_copy_batch ON routed_copy(batch_id);
            CREATE TRIGGER routed_copy_immutable BEFORE UPDATE ON routed_copy
            BEGIN SELECT RAISE(ABORT, 'routed copies are append-only'); END;
            """)
    }

    /// Agency instructions (issue 7): one fact per instruction and object, append-only; the combined state of
    /// goods is derived from them, never stored. An agency's repeat (same reference, action and object) is one
    /// fact.
    static func v7Instructions(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE instruction (
                id INTEGER PRIMARY KEY,
                agency TEXT NOT NULL CHECK (agency <> ''),
                reference TEXT NOT NULL CHECK (reference <> ''),
                action TEXT NOT NULL CHECK (action IN ('release', 'inspect', 'hold', 'passed', 'failed')),
                object_kind TEXT NOT NULL CHECK (object_kind IN ('manifest', 'bill', 'container')),
                object_ref TEXT NOT NULL CHECK (object_ref <> ''),
                scope_manifest TEXT,
                issued_at TEXT,
                received_at TEXT NOT NULL,
                batch_id INTEGER REFERENCES batch(id),
                signer_sha256 TEXT CHECK (signer_sha256 IS NULL OR length(signer_sha256) = 64),
                verification TEXT NOT NULL CHECK (verification IN ('verified', 'unsigned')),
                note TEXT,
                UNIQUE (agency, reference, action, object_kind, object_ref)
            );
            CREATE INDEX instruction_object ON instruction(object_ref, object_kind);
            CREATE INDEX instruction_batch ON instruction(batch_id);
            CREATE TRIGGER instruction_immutable BEFORE UPDATE ON instruction
            BEGIN SELECT RAISE(ABORT, 'instructions are append-only'); END;
            CREATE TRIGGER instruction_no_delete BEFORE DELETE ON instruction
            BEGIN SELECT RAISE(ABORT, 'instructions are append-only'); END;
            """)
    }

    /// What the terminals were told (issue 7): one row per container in each release order, cancellation,
    /// inspection or hold notice (with the agencies inspecting or holding), with the file and its delivery
    /// job's key. The next notice for a container depends on the last one:
    /// a release is sent once while the container stays released, and cancelled if it stops being so.
    /// `status_notice`: each combined status sent to a carrier or an agency about a consignment (CUSRES).
    /// `notice_sweep` holds how far the facts and filings were looked at, so a sweep reads only what changed.
    static func v8TerminalNotices(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE terminal_notice (
                id INTEGER PRIMARY KEY,
                terminal TEXT NOT NULL CHECK (terminal <> ''),
                manifest_id INTEGER NOT NULL REFERENCES manifest(id),
                container TEXT NOT NULL CHECK (length(container) = 11),
                kind TEXT NOT NULL CHECK (kind IN ('release', 'cancel', 'inspection', 'hold')),
                reference TEXT NOT NULL CHECK (reference <> ''),
                agencies TEXT,
                file_name TEXT NOT NULL CHECK (file_name <> ''),
                sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
                deliver_key TEXT NOT NULL,
                sent_at TEXT NOT NULL,
                UNIQUE (terminal, manifest_id, container, kind, reference)
            );
            CREATE INDEX terminal_notice_container ON terminal_notice(container);
            CREATE TABLE status_notice (
                id INTEGER PRIMARY KEY,
                partner TEXT NOT NULL CHECK (partner <> ''),
                manifest_id INTEGER NOT NULL REFERENCES manifest(id),
                bill_of_lading TEXT NOT NULL CHECK (bill_of_lading <> ''),
                state TEXT NOT NULL CHECK (state IN ('pending', 'released', 'inspection', 'held')),
                file_name TEXT NOT NULL CHECK (file_name <> ''),
                sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
                sent_at TEXT NOT NULL,
                UNIQUE (partner, manifest_id, bill_of_lading, file_name)
            );
            CREATE TABLE notice_sweep (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                instruction_id INTEGER NOT NULL,
                version_id INTEGER NOT NULL
            );
            INSERT INTO notice_sweep (id, instruction_id, version_id) VALUES (1, 0, 0);
            CREATE TRIGGER terminal_notice_immutable BEFORE UPDATE ON terminal_notice
            BEGIN SELECT RAISE(ABORT, 'terminal notices are append-only'); END;
            """)
    }

    /// `notice_sweep.swept_at`: when the last sweep ran, so the next one also reads the manifests whose silence
    /// window closed in between (goods no agency was routed are released then, with no instruction to mark it).
    /// `status_notice.detail`: what an agency was told of the others' positions with the state, so a change
    /// in them is told even when the combined state stays.
    static func v9SweepTime(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE notice_sweep ADD COLUMN swept_at TEXT;
            ALTER TABLE status_notice ADD COLUMN detail TEXT;
            CREATE INDEX manifest_version_manifest ON manifest_version(manifest_id, filed_at);
            """)
    }

    /// The tables' CHECK constraints with their lists of constants spelled as comparisons: `state IN ('queued',
    /// 'running', ...)` becomes `(state = 'queued' OR state = 'running' OR ...)`, and `NOT IN` becomes `<>`
    /// joined by AND. Same verdict for every value, NULL included. Why: SQLite (3.40 here) evaluates an IN list of
    /// more than two constants by building a temporary b-tree of the constants, once per statement it runs, and
    /// a CHECK runs on every INSERT and on every UPDATE of its columns. The ledger writes jobs, their events and
    /// batches thousands of times a run: those temporary b-trees were 8 131 for 100 routed manifests
    /// (`valgrind --tool=callgrind`), with a 4 KiB page zeroed for each, all while holding the single writer; the
    /// ledger's commits took 38 % fewer instructions without them. An inserted row in Python's sqlite3: 3.8 us
    /// against 1.4 us.
    ///
    /// SQLite cannot alter a CHECK. An equivalent CHECK changes nothing stored, so this takes SQLite's documented
    /// shortcut for such changes (https://sqlite.org/lang_altertable.html, "making other kinds of table schema
    /// changes") rather than rebuilding the tables: the `CREATE TABLE` text is replaced in `sqlite_schema` and
    /// the schema version raised, in the migration's transaction. No row is copied, so a ledger of millions of
    /// jobs upgrades as fast as an empty one (rebuilding cost a fresh store 260 M instructions, re-parsing the
    /// schema after each step). The new schema is read back before the migration commits: a text SQLite could
    /// not parse fails here, and the transaction rolls back. Partial indexes keep their IN lists: the query
    /// planner matches them against the queries' own text.
    static func v10CheckComparisons(_ db: Database) throws {
        let tables = try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql IS NOT NULL ORDER BY name")
        let changes = tables.compactMap { row -> (name: String, sql: String)? in
            let sql: String = row["sql"]
            let rewritten = checkComparisons(sql)
            return rewritten == sql ? nil : (row["name"], rewritten)
        }
        guard !changes.isEmpty else { return }
        let version = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
        try db.execute(sql: "PRAGMA writable_schema = ON")
        do {
            for change in changes {
                try db.execute(sql: "UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?", arguments: [change.sql, change.name])
            }
            try db.execute(sql: "PRAGMA schema_version = \(version + 1)")
        } catch {
            try? db.execute(sql: "PRAGMA writable_schema = OFF")
            throw error
        }
        try db.execute(sql: "PRAGMA writable_schema = OFF")
        // Read back: preparing a statement on each table makes SQLite load and parse the new schema.
        for change in changes {
            _ = try db.makeStatement(sql: "SELECT * FROM \(change.name) LIMIT 0")
            guard try String.fetchOne(db, sql: "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", arguments: [change.name]) == change.sql else {
                throw StoreError(.refused, "v10: the new definition of table \(change.name) did not take")
            }
        }
    }

    /// `column IN (constants)` and `column NOT IN (constants)` in `sql` spelled as comparisons (see
    /// `v10CheckComparisons`); lists of subqueries and anything else are left as they are. Scanned by hand: the
    /// same rewrite with a Swift `Regex` took 78 M instructions over the schema's few kilobytes, on every new store.
    static func checkComparisons(_ sql: String) -> String {
        let text = Array(sql.utf8)
        let marker = Array(" IN (".utf8), not = Array(" NOT".utf8)
        var result: [UInt8] = []
        var copied = 0
        var i = 0
        while i + marker.count <= text.count {
            guard text[i..<(i + marker.count)].elementsEqual(marker) else {
                i += 1
                continue
            }
            var columnEnd = i
            let negated = columnEnd >= not.count && text[(columnEnd - not.count)..<columnEnd].elementsEqual(not)
            if negated { columnEnd -= not.count }
            var columnStart = columnEnd
            while columnStart > copied, isIdentifier(text[columnStart - 1]) { columnStart -= 1 }
            guard columnStart < columnEnd, let (items, end) = constants(text, from: i + marker.count) else {
                i += 1
                continue
            }
            let column = text[columnStart..<columnEnd]
            result += text[copied..<columnStart]
            result += Array("(".utf8)
            for (n, item) in items.enumerated() {
                if n > 0 { result += Array((negated ? " AND " : " OR ").utf8) }
                result += column
                result += Array((negated ? " <> " : " = ").utf8)
                result += item
            }
            result += Array(")".utf8)
            copied = end
            i = end
        }
        result += text[copied...]
        return String(decoding: result, as: UTF8.self)
    }

    private static func isIdentifier(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
    }

    /// The constants of a list that starts at `start` (just after its `(`): quoted strings with no quote inside,
    /// or integers, separated by commas and spaces; and the index after its `)`. Nil for anything else.
    private static func constants(_ text: [UInt8], from start: Int) -> ([ArraySlice<UInt8>], Int)? {
        var items: [ArraySlice<UInt8>] = []
        var i = start
        while true {
            let itemStart = i
            if i < text.count, text[i] == UInt8(ascii: "'") {
                i += 1
                while i < text.count, text[i] != UInt8(ascii: "'") { i += 1 }
                guard i < text.count else { return nil }
                i += 1
            } else {
                if i < text.count, text[i] == UInt8(ascii: "-") { i += 1 }
                let digits = i
                while i < text.count, text[i] >= UInt8(ascii: "0") && text[i] <= UInt8(ascii: "9") { i += 1 }
                guard i > digits else { return nil }
            }
            items.append(text[itemStart..<i])
            guard i < text.count else { return nil }
            if text[i] == UInt8(ascii: ")") { return (items, i + 1) }
            guard text[i] == UInt8(ascii: ",") else { return nil }
            i += 1
            while i < text.count, text[i] == UInt8(ascii: " ") { i += 1 }
        }
    }
}

