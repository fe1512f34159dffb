/// One named step of the schema, applied once, in its own transaction, and recorded in `schema_migrations`.
///
/// A released migration never changes: a later change of the schema is a new entry at the end of
/// ``Schema/migrations``, with the next version number.
struct Migration: Sendable {
    let version: Int
    let name: String
    /// One or more SQL statements.
    let sql: String
}

/// The store's schema: the migrations table and the ordered list of migrations. See `docs/store.md`.
enum Schema {
    /// `PRAGMA application_id` of every Quill store: "QUIL" in ASCII.
    static let applicationID: Int32 = 0x5155_494C

    /// SQLite expression for the current time as ISO-8601 UTC text with milliseconds (`2025-03-01T12:00:00.000Z`),
    /// which sorts as it reads.
    static let now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

    /// The table recording applied migrations; it exists before any migration runs, so it is no migration itself.
    static let migrationsTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at TEXT NOT NULL
        ) STRICT
        """

    /// Every migration, in order. Versions count up from 1 without gaps.
    static let migrations: [Migration] = [
        Migration(version: 1, name: "create-core-tables", sql: createCoreTables),
        Migration(version: 2, name: "record-run-owner", sql: recordRunOwner),
        Migration(version: 3, name: "subword-merges-and-translation-vocabularies",
                  sql: subwordMergesAndTranslationVocabularies),
        Migration(version: 4, name: "tensor-and-vocabulary-checksums", sql: tensorAndVocabularyChecksums),
        Migration(version: 5, name: "record-quill-versions", sql: recordQuillVersions),
    ]

    /// The name of the migration that creates `quill_versions` (a store opened with an older prefix of the list, as
    /// tests do, has no such table to write to).
    static let quillVersionsMigration = "record-quill-versions"

    /// The releases of Quill that created the store or upgraded its schema, and when: a store records what made it.
    /// (Only those: an ordinary open writes nothing, so a refused command leaves the file byte for byte as it was.)
    private static let recordQuillVersions = """
        CREATE TABLE quill_versions (
            version     TEXT PRIMARY KEY CHECK (version <> ''),
            recorded_at TEXT NOT NULL
        ) STRICT;
        """

    /// A CRC32C (`StoredChecksum`) beside every tensor's data and every vocabulary, verified on each load and by
    /// `Store.check()`. Rows written before this migration keep NULL (not verified); the triggers make every row
    /// inserted after it carry one, whoever writes it.
    private static let tensorAndVocabularyChecksums = """
        ALTER TABLE tensors ADD COLUMN checksum INTEGER CHECK (checksum BETWEEN 0 AND 4294967295);
        ALTER TABLE vocabularies ADD COLUMN checksum INTEGER CHECK (checksum BETWEEN 0 AND 4294967295);
        CREATE TRIGGER tensors_have_checksums BEFORE INSERT ON tensors WHEN NEW.checksum IS NULL
        BEGIN SELECT RAISE(ABORT, 'a tensor row needs its checksum (CRC32C of data)'); END;
        CREATE TRIGGER vocabularies_have_checksums BEFORE INSERT ON vocabularies WHEN NEW.checksum IS NULL
        BEGIN SELECT RAISE(ABORT, 'a vocabulary row needs its checksum'); END;
        """

    /// A BPE vocabulary's merges, by rank (its fingerprint covers them); and a translation model's target vocabulary
    /// fingerprint beside its `target_vocabulary_id`, as `vocabulary_fingerprint` is beside `vocabulary_id`.
    /// The primary key starts with `vocabulary_id`, so the cascade from `vocabularies` needs no other index.
    private static let subwordMergesAndTranslationVocabularies = """
        CREATE TABLE vocabulary_merges (
            vocabulary_id INTEGER NOT NULL REFERENCES vocabularies(id) ON DELETE CASCADE,
            rank          INTEGER NOT NULL CHECK (rank >= 0),
            left_token    TEXT    NOT NULL CHECK (left_token <> ''),
            right_token   TEXT    NOT NULL CHECK (right_token <> ''),
            PRIMARY KEY (vocabulary_id, rank)
        ) STRICT, WITHOUT ROWID;
        ALTER TABLE models ADD COLUMN target_vocabulary_fingerprint TEXT;
        """

    /// The process training a run: its id, host and start time (pids are reused; the start time tells them apart),
    /// so a run whose process is gone shows as interrupted. NULL for runs recorded before.
    private static let recordRunOwner = """
        ALTER TABLE runs ADD COLUMN owner_pid   INTEGER;
        ALTER TABLE runs ADD COLUMN owner_host  TEXT;
        ALTER TABLE runs ADD COLUMN owner_start TEXT;
        """

    // Every table is STRICT (SQLite ≥ 3.37): a column holds only its declared type, so a float never lands in an
    // INTEGER column by accident. Child-side foreign-key columns are indexed (directly or as the first column of a
    // UNIQUE/PRIMARY KEY), so deleting a parent does not scan the child table.
    private static let createCoreTables = """
        CREATE TABLE vocabularies (
            id            INTEGER PRIMARY KEY,
            name          TEXT    NOT NULL UNIQUE CHECK (name <> ''),
            level         TEXT    NOT NULL,
            settings_json TEXT    NOT NULL CHECK (json_valid(settings_json)),
            fingerprint   TEXT    NOT NULL CHECK (fingerprint <> ''),
            size          INTEGER NOT NULL CHECK (size >= 4),
            created_at    TEXT    NOT NULL DEFAULT (\(now))
        ) STRICT;

        CREATE TABLE vocabulary_tokens (
            vocabulary_id INTEGER NOT NULL REFERENCES vocabularies(id) ON DELETE CASCADE,
            token_id      INTEGER NOT NULL CHECK (token_id >= 0),
            token         TEXT    NOT NULL CHECK (token <> ''),
            count         INTEGER NOT NULL CHECK (count >= 0),
            PRIMARY KEY (vocabulary_id, token_id)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE models (
            id                     INTEGER PRIMARY KEY,
            name                   TEXT    NOT NULL UNIQUE CHECK (name <> ''),
            kind                   TEXT    NOT NULL CHECK (kind <> ''),
            hyperparameters_json   TEXT    NOT NULL CHECK (json_valid(hyperparameters_json)),
            vocabulary_id          INTEGER NOT NULL REFERENCES vocabularies(id) ON DELETE RESTRICT,
            target_vocabulary_id   INTEGER          REFERENCES vocabularies(id) ON DELETE RESTRICT,
            vocabulary_fingerprint TEXT    NOT NULL,
            created_at             TEXT    NOT NULL DEFAULT (\(now))
        ) STRICT;
        CREATE INDEX models_by_vocabulary ON models(vocabulary_id);
        CREATE INDEX models_by_target_vocabulary ON models(target_vocabulary_id);

        CREATE TABLE runs (
            id          INTEGER PRIMARY KEY,
            name        TEXT    NOT NULL,
            model_id    INTEGER REFERENCES models(id) ON DELETE SET NULL,
            config_json TEXT    NOT NULL CHECK (json_valid(config_json)),
            status      TEXT    NOT NULL DEFAULT 'running'
                                CHECK (status IN ('running', 'finished', 'interrupted', 'failed')),
            started_at  TEXT    NOT NULL DEFAULT (\(now)),
            finished_at TEXT,
            CHECK ((status = 'running') = (finished_at IS NULL))
        ) STRICT;
        CREATE INDEX runs_by_model ON runs(model_id);

        CREATE TABLE checkpoints (
            id         INTEGER PRIMARY KEY,
            run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            step       INTEGER NOT NULL CHECK (step >= 0),
            epoch      INTEGER NOT NULL CHECK (epoch >= 0),
            state_json TEXT    NOT NULL CHECK (json_valid(state_json)),
            created_at TEXT    NOT NULL DEFAULT (\(now)),
            UNIQUE (run_id, step)
        ) STRICT;

        CREATE TABLE tensors (
            id            INTEGER PRIMARY KEY,
            model_id      INTEGER REFERENCES models(id) ON DELETE CASCADE,
            checkpoint_id INTEGER REFERENCES checkpoints(id) ON DELETE CASCADE,
            name          TEXT    NOT NULL CHECK (name <> ''),
            dtype         TEXT    NOT NULL DEFAULT 'f32' CHECK (dtype IN ('f32')),
            shape_json    TEXT    NOT NULL CHECK (json_valid(shape_json) AND json_type(shape_json) = 'array'),
            element_count INTEGER NOT NULL CHECK (element_count >= 0),
            data          BLOB    NOT NULL,
            CHECK (length(data) = 4 * element_count),
            CHECK ((model_id IS NULL) <> (checkpoint_id IS NULL)),
            UNIQUE (model_id, name),
            UNIQUE (checkpoint_id, name)
        ) STRICT;

        CREATE TABLE metrics (
            run_id            INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            step              INTEGER NOT NULL CHECK (step >= 0),
            epoch             INTEGER NOT NULL CHECK (epoch >= 0),
            split             TEXT    NOT NULL DEFAULT 'train' CHECK (split IN ('train', 'valid', 'test')),
            loss              REAL,
            perplexity        REAL,
            tokens_per_second REAL,
            wall_seconds      REAL,
            PRIMARY KEY (run_id, step, split)
        ) STRICT, WITHOUT ROWID;
        """
}
