// Package sqlite keeps labd's data in an embedded SQLite database (pure Go,
// modernc.org/sqlite) in WAL mode, or in PostgreSQL (pgx) when given a
// postgres:// URL, with the schema migrations of both embedded. The queries
// are written once; dialect.go holds the few differences.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// SQLite's migrations are migrations/NNN_*.sql, PostgreSQL's
// migrations/postgres/NNN_*.sql: the same numbers, the same schema.
//
//go:embed migrations/*.sql migrations/postgres/*.sql
var migrations embed.FS

// DB is labd's database.
type DB struct {
	db    *handle
	stmts sync.Map // query -> *sql.Stmt: hot queries parsed once (see stmt)
}

// stmt returns query prepared once for the database's life: SQLite spends
// a fifth of a small statement's time parsing it.
func (db *DB) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := db.stmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := db.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.stmts.LoadOrStore(query, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// Open opens the database and migrates it. dsn is a postgres:// (or
// postgresql://) URL, or else the path of an SQLite file, created if needed
// (a leading "sqlite:" is allowed).
func Open(ctx context.Context, dsn string) (*DB, error) {
	var h *handle
	if isPostgresURL(dsn) {
		sqldb, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		sqldb.SetMaxOpenConns(16)
		sqldb.SetMaxIdleConns(16)
		h = &handle{DB: sqldb, dialect: postgresDialect}
	} else {
		path := strings.TrimPrefix(dsn, "sqlite:")
		dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
			"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		sqldb, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		// One writer at a time is what SQLite does anyway; more connections
		// only serve concurrent readers.
		sqldb.SetMaxOpenConns(8)
		h = &handle{DB: sqldb, dialect: sqliteDialect}
	}
	db := &DB{db: h}
	if err := db.migrate(ctx); err != nil {
		h.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	db.stmts.Range(func(_, s any) bool { s.(*sql.Stmt).Close(); return true })
	return db.db.Close()
}

// Ping reports whether the database answers (for /readyz).
func (db *DB) Ping(ctx context.Context) error { return db.db.PingContext(ctx) }

// Dialect names the database: "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.db.dialect.String() }

// migration is one schema step.
type migration struct {
	n    int
	name string
	body string
}

// dialectMigrations lists d's embedded migrations in order.
func dialectMigrations(d dialect) ([]migration, error) {
	dir := "migrations"
	if d == postgresDialect {
		dir = "migrations/postgres"
	}
	names, err := fs.Glob(migrations, dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, dir+"/")
		n, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", base)
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{n: n, name: base, body: string(body)})
	}
	return out, nil
}

// schemaVersion reads the number of the last migration applied: SQLite
// keeps it in PRAGMA user_version, PostgreSQL in the table schema_version.
func (db *DB) schemaVersion(ctx context.Context) (int, error) {
	var version int
	if db.db.dialect == postgresDialect {
		if _, err := db.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
			return 0, fmt.Errorf("read schema version: %w", err)
		}
		err := db.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&version)
		if err != nil {
			return 0, fmt.Errorf("read schema version: %w", err)
		}
		return version, nil
	}
	if err := db.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return version, nil
}

// txSchemaVersion reads the schema version inside tx.
func (db *DB) txSchemaVersion(ctx context.Context, tx *txn) (int, error) {
	var version int
	q := "PRAGMA user_version"
	if db.db.dialect == postgresDialect {
		q = `SELECT COALESCE(MAX(version), 0) FROM schema_version`
	}
	if err := tx.Tx.QueryRowContext(ctx, q).Scan(&version); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return version, nil
}

// migrate applies, in order and each in its own transaction, the embedded
// migrations newer than the database's schema version.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := dialectMigrations(db.db.dialect)
	if err != nil {
		return err
	}
	if db.db.dialect == postgresDialect {
		// Two labd starting together: one migrates, the other waits for it.
		conn, err := db.db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, writeLock+1); err != nil {
			return fmt.Errorf("lock for migrations: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, writeLock+1)
	}
	version, err := db.schemaVersion(ctx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.n <= version {
			continue
		}
		tx, err := db.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		// Another process may have applied it meanwhile (two labd starting on
		// a new SQLite file): the transaction holds the write lock, so look again.
		if now, err := db.txSchemaVersion(ctx, tx); err != nil || now >= m.n {
			tx.Rollback()
			if err != nil {
				return err
			}
			continue
		}
		if _, err := tx.Tx.ExecContext(ctx, m.body); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		mark := fmt.Sprintf("PRAGMA user_version = %d", m.n)
		if db.db.dialect == postgresDialect {
			mark = fmt.Sprintf("INSERT INTO schema_version (version) VALUES (%d)", m.n)
		}
		if _, err := tx.Tx.ExecContext(ctx, mark); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}
