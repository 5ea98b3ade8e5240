package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// TableCount is one table's rows in the source and the target of a copy.
type TableCount struct {
	Table          string
	Source, Target int64
}

// Copy moves every row of every table of from into to, which must be empty
// and at the same schema version (Open migrates both to the newest). It
// copies in one transaction of to, parents before children, in insertion
// order, and then counts each table on both sides: a difference is an error.
func Copy(ctx context.Context, from, to *DB) ([]TableCount, error) {
	fv, err := from.schemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	tv, err := to.schemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if fv != tv {
		return nil, fmt.Errorf("copy: the source's schema is at %d, the target's at %d", fv, tv)
	}
	tables, err := from.tables(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		if n, err := to.count(ctx, t); err != nil {
			return nil, fmt.Errorf("copy: target: %w", err)
		} else if n > 0 {
			return nil, fmt.Errorf("copy: the target is not empty (%s has %d rows): copy only into a new database", t, n)
		}
	}
	tx, err := to.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for _, t := range tables {
		if err := copyTable(ctx, from, to, tx, t); err != nil {
			return nil, fmt.Errorf("copy %s: %w", t, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	var counts []TableCount
	var short []string
	for _, t := range tables {
		c := TableCount{Table: t}
		if c.Source, err = from.count(ctx, t); err != nil {
			return nil, err
		}
		if c.Target, err = to.count(ctx, t); err != nil {
			return nil, err
		}
		if c.Source != c.Target {
			short = append(short, fmt.Sprintf("%s: %d rows, %d copied", t, c.Source, c.Target))
		}
		counts = append(counts, c)
	}
	if len(short) > 0 {
		return counts, fmt.Errorf("copy: counts differ: %s", strings.Join(short, "; "))
	}
	return counts, nil
}

func (db *DB) count(ctx context.Context, table string) (int64, error) {
	var n int64
	err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quoteIdent(table)).Scan(&n)
	return n, err
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// tables lists the data's tables, each after the tables it references.
func (db *DB) tables(ctx context.Context) ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if db.db.dialect == postgresDialect {
		q = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name != 'schema_version' ORDER BY table_name`
	}
	names, err := db.strings(ctx, q)
	if err != nil {
		return nil, err
	}
	parents := map[string][]string{}
	for _, t := range names {
		q := `SELECT "table" FROM pragma_foreign_key_list(?)`
		if db.db.dialect == postgresDialect {
			q = `SELECT DISTINCT ccu.table_name FROM information_schema.table_constraints tc
				JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
				WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() AND tc.table_name = ?`
		}
		if parents[t], err = db.strings(ctx, q, t); err != nil {
			return nil, err
		}
	}
	var out []string
	done := map[string]bool{}
	var visit func(t string, depth int) error
	visit = func(t string, depth int) error {
		if done[t] {
			return nil
		}
		if depth > len(names) {
			return fmt.Errorf("foreign keys loop through %s", t)
		}
		for _, p := range parents[t] {
			if p != t && slices.Contains(names, p) {
				if err := visit(p, depth+1); err != nil {
					return err
				}
			}
		}
		done[t] = true
		out = append(out, t)
		return nil
	}
	for _, t := range names {
		if err := visit(t, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (db *DB) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// columns returns table's columns and which of them are booleans, less
// PostgreSQL's seq (the target numbers its rows itself, in copy order).
func (db *DB) columns(ctx context.Context, table string) ([]string, map[string]bool, error) {
	q := `SELECT name, lower(type) FROM pragma_table_info(?) ORDER BY cid`
	if db.db.dialect == postgresDialect {
		q = `SELECT column_name, data_type FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`
	}
	rows, err := db.db.QueryContext(ctx, q, table)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var cols []string
	bools := map[string]bool{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, nil, err
		}
		if db.db.dialect == postgresDialect && name == "seq" {
			continue
		}
		cols = append(cols, name)
		bools[name] = typ == "boolean"
	}
	return cols, bools, rows.Err()
}

func copyTable(ctx context.Context, from, to *DB, tx *txn, table string) error {
	cols, _, err := from.columns(ctx, table)
	if err != nil {
		return err
	}
	targetCols, targetBool, err := to.columns(ctx, table)
	if err != nil {
		return err
	}
	for _, c := range cols {
		if !slices.Contains(targetCols, c) {
			return fmt.Errorf("the target has no column %s", c)
		}
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quoteIdent(c)
	}
	list := strings.Join(quoted, ", ")
	order := " ORDER BY rowid"
	if from.db.dialect == postgresDialect {
		order = ""
		if hasSeq(ctx, from, table) {
			order = " ORDER BY seq"
		}
	}
	rows, err := from.db.QueryContext(ctx, `SELECT `+list+` FROM `+quoteIdent(table)+order)
	if err != nil {
		return err
	}
	defer rows.Close()
	ins, err := tx.PrepareContext(ctx, to.db.q(`INSERT INTO `+quoteIdent(table)+` (`+list+`) VALUES (?`+strings.Repeat(", ?", len(cols)-1)+`)`))
	if err != nil {
		return err
	}
	defer ins.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, c := range cols {
			// SQLite keeps flags as 0/1; PostgreSQL's columns are BOOLEAN.
			if n, ok := vals[i].(int64); ok && targetBool[c] {
				vals[i] = n != 0
			}
		}
		if _, err := ins.ExecContext(ctx, to.db.text(vals)...); err != nil {
			return err
		}
	}
	return rows.Err()
}

func hasSeq(ctx context.Context, db *DB, table string) bool {
	var one int
	err := db.db.QueryRowContext(ctx, `SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ? AND column_name = 'seq'`, table).Scan(&one)
	return err == nil
}
