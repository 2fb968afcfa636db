/// The PostgreSQL mirror of `StoreSchema`: the same tables, columns (same names, same order), indexes, triggers and
/// invariants, so that the application can run the same SQL text against either store and read the same values back.
///
/// Rules of translation (PostgreSQL 15):
/// - An auto-assigned `INTEGER PRIMARY KEY` id is `BIGSERIAL PRIMARY KEY`. Ids that are not auto-assigned stay plain:
///   `collected.job_id` is `BIGINT PRIMARY KEY REFERENCES job(id)`, `notice_sweep.id` is `BIGINT PRIMARY KEY CHECK (id = 1)`
///   with its seed row.
/// - Every other `INTEGER` is `BIGINT`, `REAL` is `DOUBLE PRECISION`, `TEXT` stays `TEXT`. Timestamps stay `TEXT`: the
///   application writes them as `yyyy-MM-dd HH:mm:ss.SSS` (UTC) on both stores and compares them as strings.
///   Boolean-like columns (`signature_verdict.valid`, `routed_copy.signed`) stay `BIGINT` with `CHECK (x IN (0, 1))`.
/// - `json_valid(x)` is `swg_json_valid(x)`: a cast to `json` that answers false instead of failing, STRICT like
///   SQLite's (NULL in, NULL out), so a row with invalid JSON is refused as a check violation (SQLSTATE 23514).
/// - `x NOT GLOB '*[^0-9a-f]*'` is `x ~ '^[0-9a-f]*$'`; `x NOT GLOB '*[^0-9]*'` is `x ~ '^[0-9]*$'`.
/// - `ifnull(a, b)` is `COALESCE(a, b)` (parenthesized in expression indexes).
/// - Each `RAISE(ABORT, 'message')` trigger is a row trigger on `swg_refuse('message')`, which raises the very same
///   message with SQLSTATE 23001 (restrict_violation). `batch_member_same_partner` has its own function (it reads the
///   parent row). `batch_identity_immutable` refuses only an update that actually changes an identity column
///   (`IS DISTINCT FROM`), where SQLite's `UPDATE OF` refuses any UPDATE naming one.
/// - Foreign keys, composite ones too, `ON DELETE` actions, UNIQUE constraints and partial indexes are as in SQLite.
///
/// Rule, as for `StoreSchema`: a migration is never edited once released; a change is a new migration appended here,
/// under the same name as its SQLite counterpart.
enum PostgresStoreSchema {
    /// The migrations, in order, named as the SQLite ones; each is a list of statements run in one transaction.
    static let migrations: [(name: String, sql: [String])] = [
        ("v1_intake", [
            """
            CREATE FUNCTION swg_json_valid(value text) RETURNS boolean
            LANGUAGE plpgsql IMMUTABLE STRICT AS $$
            BEGIN
                PERFORM value::json;
                RETURN true;
            EXCEPTION WHEN OTHERS THEN
                RETURN false;
            END
            $$
            """,
            """
            CREATE FUNCTION swg_refuse() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION USING MESSAGE = TG_ARGV[0], ERRCODE = 'restrict_violation';
            END
            $$
            """,
            """
            CREATE TABLE batch (
                id BIGSERIAL PRIMARY KEY,
                partner TEXT NOT NULL CHECK (partner <> ''),
                original_name TEXT NOT NULL CHECK (original_name <> ''),
                size BIGINT NOT NULL CHECK (size >= 0),
                mtime TEXT,
                sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 ~ '^[0-9a-f]*$'),
                interchange_ref TEXT CHECK (interchange_ref IS NULL OR interchange_ref <> ''),
                sender_id TEXT,
                received_at TEXT NOT NULL,
                parent_batch_id BIGINT REFERENCES batch(id) ON DELETE RESTRICT,
                member_name TEXT,
                state TEXT NOT NULL DEFAULT 'received'
                    CHECK (state IN ('received', 'unpacked', 'accepted', 'rejected', 'quarantined', 'conflict')),
                reason TEXT,
                updated_at TEXT NOT NULL,
                -- An archive member has both a parent and a name; a dropped file has neither.
                CHECK ((parent_batch_id IS NULL) = (member_name IS NULL)),
                -- A batch that did not make it has a reason an operator can read.
                CHECK (state NOT IN ('rejected', 'quarantined', 'conflict') OR reason IS NOT NULL)
            )
            """,
            // Identity of a batch: partner + exact bytes (+ place in its archive). NULLs are folded so that two
            // top-level drops of the same bytes collide; the renamed path is never part of it.
            """
            CREATE UNIQUE INDEX batch_identity
                ON batch (partner, sha256, (COALESCE(parent_batch_id, 0)), (COALESCE(member_name, '')))
            """,
            // One accepted interchange per (partner, sender, reference): ISO 9735 duplicate detection. Rows in
            // state 'conflict' are the rejected duplicates, kept for the operator.
            """
            CREATE UNIQUE INDEX batch_interchange
                ON batch (partner, (COALESCE(sender_id, '')), interchange_ref)
                WHERE interchange_ref IS NOT NULL AND state <> 'conflict'
            """,
            "CREATE INDEX batch_parent ON batch (parent_batch_id) WHERE parent_batch_id IS NOT NULL",
            "CREATE INDEX batch_partner_received ON batch (partner, received_at)",
            // An archive member belongs to an archive of the same partner (a missing parent too is refused here,
            // as in SQLite, where the subquery's NULL differs from any partner).
            """
            CREATE FUNCTION swg_batch_member_same_partner() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.parent_batch_id IS NOT NULL
                   AND (SELECT partner FROM batch WHERE id = NEW.parent_batch_id) IS DISTINCT FROM NEW.partner THEN
                    RAISE EXCEPTION USING MESSAGE = 'archive member partner differs from its archive',
                                          ERRCODE = 'restrict_violation';
                END IF;
                RETURN NEW;
            END
            $$
            """,
            """
            CREATE TRIGGER batch_member_same_partner BEFORE INSERT ON batch
                FOR EACH ROW WHEN (NEW.parent_batch_id IS NOT NULL)
                EXECUTE FUNCTION swg_batch_member_same_partner()
            """,
            // A batch's identity never changes after it is written (an UPDATE that sets other columns only, or sets
            // an identity column to the value it has, passes).
            """
            CREATE TRIGGER batch_identity_immutable BEFORE UPDATE OF
                partner, original_name, size, sha256, interchange_ref, sender_id, received_at,
                parent_batch_id, member_name ON batch
                FOR EACH ROW WHEN (
                    OLD.partner IS DISTINCT FROM NEW.partner
                    OR OLD.original_name IS DISTINCT FROM NEW.original_name
                    OR OLD.size IS DISTINCT FROM NEW.size
                    OR OLD.sha256 IS DISTINCT FROM NEW.sha256
                    OR OLD.interchange_ref IS DISTINCT FROM NEW.interchange_ref
                    OR OLD.sender_id IS DISTINCT FROM NEW.sender_id
                    OR OLD.received_at IS DISTINCT FROM NEW.received_at
                    OR OLD.parent_batch_id IS DISTINCT FROM NEW.parent_batch_id
                    OR OLD.member_name IS DISTINCT FROM NEW.member_name)
                EXECUTE FUNCTION swg_refuse('batch identity is immutable')
            """,
            // Same interchange reference, different bytes: rejected (CONTRL 0085 code 26) and shown to operators.
            """
            CREATE TABLE conflict (
                id BIGSERIAL PRIMARY KEY,
                partner TEXT NOT NULL,
                sender_id TEXT,
                interchange_ref TEXT NOT NULL,
                existing_batch_id BIGINT NOT NULL REFERENCES batch(id),
                batch_id BIGINT NOT NULL UNIQUE REFERENCES batch(id),
                detected_at TEXT NOT NULL,
                resolved_at TEXT,
                resolution TEXT,
                CHECK (existing_batch_id <> batch_id),
                CHECK ((resolved_at IS NULL) = (resolution IS NULL))
            )
            """,
            "CREATE INDEX conflict_open ON conflict (partner) WHERE resolved_at IS NULL",
            // Every arrival of bytes already in the ledger: acknowledged again, never reprocessed.
            """
            CREATE TABLE replay (
                id BIGSERIAL PRIMARY KEY,
                batch_id BIGINT NOT NULL REFERENCES batch(id),
                original_name TEXT NOT NULL,
                size BIGINT NOT NULL CHECK (size >= 0),
                mtime TEXT,
                received_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX replay_batch ON replay (batch_id)",
            // Receipts written for a batch: at most one of each kind, so a rerun never sends a second.
            """
            CREATE TABLE receipt (
                id BIGSERIAL PRIMARY KEY,
                batch_id BIGINT NOT NULL REFERENCES batch(id),
                kind TEXT NOT NULL CHECK (kind IN ('CONTRL', 'APERAK')),
                file_name TEXT NOT NULL CHECK (file_name <> ''),
                sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 ~ '^[0-9a-f]*$'),
                written_at TEXT NOT NULL,
                UNIQUE (batch_id, kind)
            )
            """,
            """
            CREATE TRIGGER receipt_immutable BEFORE UPDATE ON receipt
                FOR EACH ROW EXECUTE FUNCTION swg_refuse('receipts are append-only')
            """,
            """
            CREATE TRIGGER receipt_no_delete BEFORE DELETE ON receipt
                FOR EACH ROW EXECUTE FUNCTION swg_refuse('receipts are append-only')
            """,
        ]),
        ("v1_jobs", [
            """
            CREATE TABLE job (
                id BIGSERIAL PRIMARY KEY,
                kind TEXT NOT NULL CHECK (kind <> ''),
                partner TEXT,
                batch_id BIGINT REFERENCES batch(id),
                idempotency_key TEXT UNIQUE,
                state TEXT NOT NULL
                    CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'retrying', 'cancelled', 'quarantined')),
                attempts BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                max_attempts BIGINT NOT NULL CHECK (max_attempts >= 1),
                next_run_at TEXT NOT NULL,
                lease_owner TEXT,
                lease_expires_at TEXT,
                error_code TEXT,
                error_message TEXT,
                input TEXT NOT NULL DEFAULT '{}' CHECK (swg_json_valid(input)),
                output TEXT CHECK (output IS NULL OR swg_json_valid(output)),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                -- Exactly the running jobs hold a lease.
                CHECK ((state = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
                -- A job that gave up says why, with a stable code.
                CHECK (state NOT IN ('failed', 'quarantined', 'retrying') OR error_code IS NOT NULL)
            )
            """,
            "CREATE INDEX job_due ON job (next_run_at) WHERE state IN ('queued', 'retrying')",
            "CREATE INDEX job_running ON job (lease_expires_at) WHERE state = 'running'",
            "CREATE INDEX job_partner_state ON job (partner, state)",
            "CREATE INDEX job_state_updated ON job (state, updated_at)",
            "CREATE INDEX job_batch ON job (batch_id) WHERE batch_id IS NOT NULL",
            """
            CREATE TABLE job_event (
                id BIGSERIAL PRIMARY KEY,
                job_id BIGINT NOT NULL REFERENCES job(id),
                at TEXT NOT NULL,
                from_state TEXT CHECK (from_state IS NULL OR from_state IN
                    ('queued', 'running', 'succeeded', 'failed', 'retrying', 'cancelled', 'quarantined')),
                to_state TEXT NOT NULL
                    CHECK (to_state IN ('queued', 'running', 'succeeded', 'failed', 'retrying', 'cancelled', 'quarantined')),
                message TEXT
            )
            """,
            "CREATE INDEX job_event_job ON job_event (job_id, id)",
            """
            CREATE TRIGGER job_event_immutable BEFORE UPDATE ON job_event
                FOR EACH ROW EXECUTE FUNCTION swg_refuse('job history is append-only')
            """,
            """
            CREATE TRIGGER job_event_no_delete BEFORE DELETE ON job_event
                FOR EACH ROW EXECUTE FUNCTION swg_refuse('job history is append-only')
            """,
        ]),
        ("v2_claims", [
            "ALTER TABLE batch ADD COLUMN claim TEXT",
            "ALTER TABLE replay ADD COLUMN claim TEXT",
            "CREATE UNIQUE INDEX batch_claim ON batch (claim) WHERE claim IS NOT NULL",
            "CREATE UNIQUE INDEX replay_claim ON replay (claim) WHERE claim IS NOT NULL",
        ]),
        ("v3_signatures", [
            """
            ALTER TABLE batch ADD COLUMN signature_sha256 TEXT
                CHECK (signature_sha256 IS NULL OR (length(signature_sha256) = 64 AND signature_sha256 ~ '^[0-9a-f]*$'))
            """,
            "ALTER TABLE batch ADD COLUMN signature_name TEXT",
            """
            CREATE TABLE signature_verdict (
                id BIGSERIAL PRIMARY KEY,
                batch_id BIGINT NOT NULL REFERENCES batch(id),
                job_id BIGINT REFERENCES job(id),
                format TEXT NOT NULL CHECK (format IN ('cms-detached', 'cms-enveloping', 'xmldsig', 'none')),
                valid BIGINT NOT NULL CHECK (valid IN (0, 1)),
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
            )
            """,
            "CREATE INDEX signature_verdict_batch ON signature_verdict (batch_id, id)",
            """
            CREATE TRIGGER signature_verdict_immutable BEFORE UPDATE ON signature_verdict
                FOR EACH ROW EXECUTE FUNCTION swg_refuse('signature evidence is append-only')
            """,
            """
            CREATE TRIGGER signature_verdict_no_delete BEFORE DELETE ON signature_verdict
                FOR EACH ROW EXECUTE FUNCTION swg_refuse('signature evidence is append-only')
            """,
        ]),
        ("v4_collected", [
            """
            CREATE TABLE collected (
                job_id BIGINT PRIMARY KEY REFERENCES job(id),
                partner TEXT NOT NULL CHECK (partner <> ''),
                file_name TEXT NOT NULL CHECK (file_name <> ''),
                noticed_at TEXT NOT NULL
            )
            """,
            """
            CREATE TRIGGER collected_immutable BEFORE UPDATE ON collected
                FOR EACH ROW EXECUTE FUNCTION swg_refuse('collection records are append-only')
            """,
        ]),
        ("v5_manifests", [
            """
            CREATE TABLE manifest (
                id BIGSERIAL PRIMARY KEY,
                partner TEXT NOT NULL CHECK (partner <> ''),
                document_number TEXT NOT NULL CHECK (document_number <> ''),
                state TEXT NOT NULL CHECK (state IN ('active', 'cancelled')),
                current_version BIGINT NOT NULL CHECK (current_version >= 1),
                mode TEXT NOT NULL,
                voyage TEXT NOT NULL,
                means_id TEXT,
                means_name TEXT,
                departure_port TEXT,
                arrival_port TEXT,
                updated_at TEXT NOT NULL,
                UNIQUE (partner, document_number)
            )
            """,
            """
            CREATE TABLE manifest_version (
                id BIGSERIAL PRIMARY KEY,
                manifest_id BIGINT NOT NULL REFERENCES manifest(id),
                version BIGINT NOT NULL CHECK (version >= 1),
                function TEXT NOT NULL CHECK (function IN ('original', 'replace', 'change', 'cancel')),
                batch_id BIGINT REFERENCES batch(id),
                filed_at TEXT NOT NULL,
                model_json TEXT NOT NULL,
                UNIQUE (manifest_id, version)
            )
            """,
            """
            CREATE TRIGGER manifest_version_immutable BEFORE UPDATE ON manifest_version
                FOR EACH ROW EXECUTE FUNCTION swg_refuse('manifest versions are append-only')
            """,
            """
            CREATE TRIGGER manifest_version_no_delete BEFORE DELETE ON manifest_version
                FOR EACH ROW EXECUTE FUNCTION swg_refuse('manifest versions are append-only')
            """,
            """
            CREATE TABLE consignment (
                id BIGSERIAL PRIMARY KEY,
                manifest_id BIGINT NOT NULL REFERENCES manifest(id),
                bill_of_lading TEXT NOT NULL CHECK (bill_of_lading <> ''),
                master_bill TEXT,
                loading_port TEXT,
                discharge_port TEXT,
                state TEXT NOT NULL CHECK (state IN ('active', 'cancelled')),
                version BIGINT NOT NULL,
                UNIQUE (manifest_id, bill_of_lading)
            )
            """,
            "CREATE INDEX consignment_bill ON consignment (bill_of_lading)",
            """
            CREATE TABLE goods_item (
                consignment_id BIGINT NOT NULL REFERENCES consignment(id) ON DELETE CASCADE,
                sequence BIGINT NOT NULL,
                description TEXT NOT NULL,
                hs_code TEXT CHECK (hs_code IS NULL OR (length(hs_code) BETWEEN 6 AND 10 AND hs_code ~ '^[0-9]*$')),
                packages BIGINT,
                package_type TEXT,
                gross_weight_kg DOUBLE PRECISION CHECK (gross_weight_kg IS NULL OR gross_weight_kg >= 0),
                un_numbers TEXT,
                PRIMARY KEY (consignment_id, sequence)
            )
            """,
            """
            CREATE TABLE container_use (
                consignment_id BIGINT NOT NULL REFERENCES consignment(id) ON DELETE CASCADE,
                container TEXT NOT NULL CHECK (length(container) = 11),
                PRIMARY KEY (consignment_id, container)
            )
            """,
            "CREATE INDEX container_use_container ON container_use (container)",
        ]),
        ("v6_routing", [
            "CREATE INDEX manifest_version_batch ON manifest_version (batch_id) WHERE batch_id IS NOT NULL",
            """
            CREATE TABLE routing_decision (
                manifest_id BIGINT NOT NULL REFERENCES manifest(id),
                version BIGINT NOT NULL,
                decided_at TEXT NOT NULL,
                decisions_json TEXT NOT NULL CHECK (swg_json_valid(decisions_json)),
                PRIMARY KEY (manifest_id, version),
                FOREIGN KEY (manifest_id, version) REFERENCES manifest_version(manifest_id, version)
            )
            """,
            """
            CREATE TABLE routed_copy (
                id BIGSERIAL PRIMARY KEY,
                manifest_id BIGINT NOT NULL REFERENCES manifest(id),
                version BIGINT NOT NULL,
                batch_id BIGINT REFERENCES batch(id),
                agency TEXT NOT NULL CHECK (agency <> ''),
                format TEXT NOT NULL CHECK (format <> ''),
                function TEXT NOT NULL CHECK (function IN ('original', 'replace', 'change', 'cancel')),
                rule TEXT NOT NULL CHECK (rule <> ''),
                bills_json TEXT NOT NULL CHECK (swg_json_valid(bills_json)),
                containers_json TEXT NOT NULL CHECK (swg_json_valid(containers_json)),
                file_name TEXT NOT NULL CHECK (file_name <> ''),
                sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
                signed BIGINT NOT NULL CHECK (signed IN (0, 1)),
                deliver_key TEXT NOT NULL UNIQUE,
                routed_at TEXT NOT NULL,
                UNIQUE (manifest_id, version, agency),
                FOREIGN KEY (manifest_id, version) REFERENCES manifest_version(manifest_id, version)
            )
            """,
            "CREATE INDEX routed_copy_batch ON routed_copy (batch_id)",
            """
            CREATE TRIGGER routed_copy_immutable BEFORE UPDATE ON routed_copy
                FOR EACH ROW EXECUTE FUNCTION swg_refuse('routed copies are append-only')
            """,
        ]),
        ("v7_instructions", [
            """
            CREATE TABLE instruction (
                id BIGSERIAL PRIMARY KEY,
                agency TEXT NOT NULL CHECK (agency <> ''),
                reference TEXT NOT NULL CHECK (reference <> ''),
                action TEXT NOT NULL CHECK (action IN ('release', 'inspect', 'hold', 'passed', 'failed')),
                object_kind TEXT NOT NULL CHECK (object_kind IN ('manifest', 'bill', 'container')),
                object_ref TEXT NOT NULL CHECK (object_ref <> ''),
                scope_manifest TEXT,
                issued_at TEXT,
                received_at TEXT NOT NULL,
                batch_id BIGINT REFERENCES batch(id),
                signer_sha256 TEXT CHECK (signer_sha256 IS NULL OR length(signer_sha256) = 64),
                verification TEXT NOT NULL CHECK (verification IN ('verified', 'unsigned')),
                note TEXT,
                UNIQUE (agency, reference, action, object_kind, object_ref)
            )
            """,
            "CREATE INDEX instruction_object ON instruction (object_ref, object_kind)",
            "CREATE INDEX instruction_batch ON instruction (batch_id)",
            """
            CREATE TRIGGER instruction_immutable BEFORE UPDATE ON instruction
                FOR EACH ROW EXECUTE FUNCTION swg_refuse('instructions are append-only')
            """,
            """
            CREATE TRIGGER instruction_no_delete BEFORE DELETE ON instruction
                FOR EACH ROW EXECUTE FUNCTION swg_refuse('instructions are append-only')
            """,
        ]),
        ("v8_terminal_notices", [
            """
            CREATE TABLE terminal_notice (
                id BIGSERIAL PRIMARY KEY,
                terminal TEXT NOT NULL CHECK (terminal <> ''),
                manifest_id BIGINT NOT NULL REFERENCES manifest(id),
                container TEXT NOT NULL CHECK (length(container) = 11),
                kind TEXT NOT NULL CHECK (kind IN ('release', 'cancel', 'inspection', 'hold')),
                reference TEXT NOT NULL CHECK (reference <> ''),
                agencies TEXT,
                file_name TEXT NOT NULL CHECK (file_name <> ''),
                sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
                deliver_key TEXT NOT NULL,
                sent_at TEXT NOT NULL,
                UNIQUE (terminal, manifest_id, container, kind, reference)
            )
            """,
            "CREATE INDEX terminal_notice_container ON terminal_notice (container)",
            """
            CREATE TABLE status_notice (
                id BIGSERIAL PRIMARY KEY,
                partner TEXT NOT NULL CHECK (partner <> ''),
                manifest_id BIGINT NOT NULL REFERENCES manifest(id),
                bill_of_lading TEXT NOT NULL CHECK (bill_of_lading <> ''),
                state TEXT NOT NULL CHECK (state IN ('pending', 'released', 'inspection', 'held')),
                file_name TEXT NOT NULL CHECK (file_name <> ''),
                sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
                sent_at TEXT NOT NULL,
                UNIQUE (partner, manifest_id, bill_of_lading, file_name)
            )
            """,
            """
            CREATE TABLE notice_sweep (
                id BIGINT PRIMARY KEY CHECK (id = 1),
                instruction_id BIGINT NOT NULL,
                version_id BIGINT NOT NULL
            )
            """,
            "INSERT INTO notice_sweep (id, instruction_id, version_id) VALUES (1, 0, 0)",
            """
            CREATE TRIGGER terminal_notice_immutable BEFORE UPDATE ON terminal_notice
                FOR EACH ROW EXECUTE FUNCTION swg_refuse('terminal notices are append-only')
            """,
        ]),
        ("v9_sweep_time", [
            "ALTER TABLE notice_sweep ADD COLUMN swept_at TEXT",
            "ALTER TABLE status_notice ADD COLUMN detail TEXT",
            "CREATE INDEX manifest_version_manifest ON manifest_version (manifest_id, filed_at)",
        ]),
        // SQLite's v10 spells its CHECK constraints' constant lists as comparisons, because SQLite builds a temporary
        // b-tree for each list every time a statement runs. PostgreSQL compares against the list directly: nothing to
        // change, and the name keeps both stores' lists of migrations alike.
        ("v10_check_comparisons", []),
    ]
}
