package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
)

// dialect is the few places where SQLite and PostgreSQL differ for labd's
// queries. The queries are written once, in SQLite's spelling; handle
// rewrites them for PostgreSQL:
//   - placeholders: ? becomes $1, $2, ...
//   - rowid (insertion order, used to break ties) becomes seq, a BIGSERIAL
//     column the PostgreSQL schema gives the tables that are ordered by it.
//
// Upserts (INSERT ... ON CONFLICT ... DO UPDATE SET x = excluded.x) and
// RETURNING are the same in both; times are unix milliseconds (BIGINT) in
// both, so copying a database moves numbers, not time zones.
type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
)

func (d dialect) String() string {
	if d == postgresDialect {
		return "postgres"
	}
	return "sqlite"
}

// isPostgresURL reports whether dsn names a PostgreSQL database rather than
// an SQLite file.
func isPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// rebind rewrites query, written for SQLite, for PostgreSQL.
func rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'': // a string literal: copy it as it is
			j := strings.IndexByte(query[i+1:], '\'')
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+2])
			i += j + 1
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		case (c == 'r' || c == 'R') && strings.EqualFold(safeSlice(query, i, i+5), "rowid") &&
			!identChar(prev(query, i)) && !identChar(next(query, i+5)):
			b.WriteString("seq")
			i += 4
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func safeSlice(s string, i, j int) string {
	if j > len(s) {
		return ""
	}
	return s[i:j]
}

func prev(s string, i int) byte {
	if i == 0 {
		return ' '
	}
	return s[i-1]
}

func next(s string, i int) byte {
	if i >= len(s) {
		return ' '
	}
	return s[i]
}

func identChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// handle is the *sql.DB the store uses, rewriting its queries for the
// dialect. The rewrite is a single pass over the text (about a microsecond);
// it is not cached, since queries with IN lists and limits vary without bound.
type handle struct {
	*sql.DB
	dialect dialect
}

func (h *handle) q(query string) string {
	if h.dialect == sqliteDialect {
		return query
	}
	return rebind(query)
}

func (h *handle) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return h.DB.ExecContext(ctx, h.q(query), h.text(args)...)
}

func (h *handle) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return h.DB.QueryContext(ctx, h.q(query), args...)
}

func (h *handle) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return h.DB.QueryRowContext(ctx, h.q(query), args...)
}

func (h *handle) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return h.DB.PrepareContext(ctx, h.q(query))
}

// writeLock is the PostgreSQL advisory lock every transaction takes first.
// SQLite transactions begin IMMEDIATE: one writer at a time, so a
// read-decide-write transaction (UpdateAttempts, AcceptInvitation, the
// certificate claims) never races another. Taking one lock in PostgreSQL
// keeps exactly that contract across every labd on the database, with no
// serialization failures to retry.
const writeLock = 0x6c616264 // "labd"

// BeginTx begins a transaction that, like SQLite's BEGIN IMMEDIATE, holds
// the database's write lock until it ends.
func (h *handle) BeginTx(ctx context.Context, opts *sql.TxOptions) (*txn, error) {
	tx, err := h.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	if h.dialect == postgresDialect {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, writeLock); err != nil {
			tx.Rollback()
			return nil, err
		}
	}
	return &txn{Tx: tx, h: h}, nil
}

// txn is a transaction whose queries handle rewrites.
type txn struct {
	*sql.Tx
	h *handle
}

func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, t.h.q(query), t.h.text(args)...)
}

func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, t.h.q(query), args...)
}

func (t *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, t.h.q(query), args...)
}

// text makes the strings among args storable. SQLite's TEXT takes any
// bytes; PostgreSQL's refuses NUL and invalid UTF-8, which a check's output
// (a command's) may hold: those become U+FFFD rather than lose the row.
func (h *handle) text(args []any) []any {
	if h.dialect == sqliteDialect {
		return args
	}
	for i, a := range args {
		if s, ok := a.(string); ok {
			if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
				args[i] = pgText(s)
			}
		}
	}
	return args
}

func pgText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// uniqueViolation reports whether err is the violation of one UNIQUE
// constraint: in SQLite its message names the columns (sqliteCols, e.g.
// "users.email"), in PostgreSQL the constraint has a name (pgName).
func (h *handle) uniqueViolation(err error, sqliteCols, pgName string) bool {
	if err == nil {
		return false
	}
	if h.dialect == postgresDialect {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == pgName
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed: "+sqliteCols)
}

// isConstraint reports a UNIQUE or PRIMARY KEY violation (or another
// integrity constraint's).
func (h *handle) isConstraint(err error) bool {
	if h.dialect == postgresDialect {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && strings.HasPrefix(pe.Code, "23") // integrity_constraint_violation
	}
	var e interface{ Code() int }
	// SQLITE_CONSTRAINT is 19; extended codes keep it in the low byte.
	return errors.As(err, &e) && e.Code()&0xff == 19
}
