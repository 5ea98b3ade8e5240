package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

var _ lab.Store = (*DB)(nil)

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

// SaveSession inserts or updates a session with its nodes.
func (db *DB) SaveSession(ctx context.Context, s *lab.Session) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `
		INSERT INTO sessions (id, lab, owner, state, reason, created_at, ready_at, expires_at, extended, activity_at, ended_at,
			reservation, env_left)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, state = excluded.state, reason = excluded.reason,
			created_at = excluded.created_at, ready_at = excluded.ready_at, expires_at = excluded.expires_at,
			extended = excluded.extended, activity_at = excluded.activity_at, ended_at = excluded.ended_at,
			reservation = excluded.reservation, env_left = excluded.env_left`,
		s.ID, s.Lab, s.Owner, string(s.State), s.Reason, ms(s.Created), ms(s.Ready), ms(s.Expires),
		s.Extended.Milliseconds(), ms(s.Activity), ms(s.Ended), s.Reservation, s.EnvLeft)
	if err != nil {
		return fmt.Errorf("save session %s: %w", s.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM nodes WHERE session = ?`, s.ID); err != nil {
		return err
	}
	for _, n := range s.Nodes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO nodes (session, name, container, address) VALUES (?, ?, ?, ?)`,
			s.ID, n.Name, n.Container, n.Address); err != nil {
			return fmt.Errorf("save node %s/%s: %w", s.ID, n.Name, err)
		}
	}
	return tx.Commit()
}

const sessionColumns = `id, lab, owner, state, reason, created_at, ready_at, expires_at, extended, activity_at, ended_at,
	reservation, env_left`

func scanSession(row interface{ Scan(...any) error }) (*lab.Session, error) {
	var s lab.Session
	var state string
	var created, ready, expires, extended, activity, ended int64
	if err := row.Scan(&s.ID, &s.Lab, &s.Owner, &state, &s.Reason, &created, &ready, &expires, &extended, &activity, &ended,
		&s.Reservation, &s.EnvLeft); err != nil {
		return nil, err
	}
	s.State = lab.State(state)
	s.Created, s.Ready, s.Expires = fromMS(created), fromMS(ready), fromMS(expires)
	s.Extended = time.Duration(extended) * time.Millisecond
	s.Activity, s.Ended = fromMS(activity), fromMS(ended)
	return &s, nil
}

// Session returns the session with id, or nil if there is none.
func (db *DB) Session(ctx context.Context, id string) (*lab.Session, error) {
	s, err := scanSession(db.db.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read session %s: %w", id, err)
	}
	if err := db.fill(ctx, []*lab.Session{s}); err != nil {
		return nil, err
	}
	return s, nil
}

// Sessions lists sessions matching f, newest first.
func (db *DB) Sessions(ctx context.Context, f lab.Filter) ([]*lab.Session, error) {
	var where []string
	var args []any
	if owners := f.Owners; f.Owner != "" || len(owners) > 0 {
		if f.Owner != "" {
			owners = append([]string{f.Owner}, owners...)
		}
		where = append(where, "owner IN (?"+strings.Repeat(", ?", len(owners)-1)+")")
		for _, o := range owners {
			args = append(args, o)
		}
	}
	if f.Live {
		where = append(where, "state IN ('queued', 'provisioning', 'ready')")
	}
	q := `SELECT ` + sessionColumns + ` FROM sessions`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, rowid DESC" // ties: the later saved first
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []*lab.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := db.fill(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// fill reads the nodes and step results of sessions.
func (db *DB) fill(ctx context.Context, sessions []*lab.Session) error {
	if len(sessions) == 0 {
		return nil
	}
	byID := make(map[string]*lab.Session, len(sessions))
	ids := make([]any, len(sessions))
	for i, s := range sessions {
		byID[s.ID] = s
		ids[i] = s.ID
	}
	in := "(?" + strings.Repeat(",?", len(ids)-1) + ")"
	rows, err := db.db.QueryContext(ctx, `SELECT session, name, container, address FROM nodes WHERE session IN `+in+` ORDER BY rowid`, ids...)
	if err != nil {
		return fmt.Errorf("read nodes: %w", err)
	}
	for rows.Next() {
		var id string
		var n lab.NodeAddr
		if err := rows.Scan(&id, &n.Name, &n.Container, &n.Address); err != nil {
			rows.Close()
			return err
		}
		byID[id].Nodes = append(byID[id].Nodes, n)
	}
	rows.Close()
	rows, err = db.db.QueryContext(ctx, `SELECT session, step, passed, output, detail, checked_at, duration FROM step_results WHERE session IN `+in, ids...)
	if err != nil {
		return fmt.Errorf("read step results: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var r lab.StepResult
		var checked, dur int64
		if err := rows.Scan(&id, &r.Step, &r.Passed, &r.Output, &r.Detail, &checked, &dur); err != nil {
			return err
		}
		r.Checked, r.Duration = fromMS(checked), time.Duration(dur)*time.Millisecond
		byID[id].Steps = append(byID[id].Steps, r)
	}
	return rows.Err()
}

// SaveStepResult records the latest check of a step.
func (db *DB) SaveStepResult(ctx context.Context, session string, r lab.StepResult) error {
	_, err := db.db.ExecContext(ctx, `
		INSERT INTO step_results (session, step, passed, output, detail, checked_at, duration) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (session, step) DO UPDATE SET passed = excluded.passed, output = excluded.output,
			detail = excluded.detail, checked_at = excluded.checked_at, duration = excluded.duration`,
		session, r.Step, r.Passed, r.Output, r.Detail, ms(r.Checked), r.Duration.Milliseconds())
	if err != nil {
		return fmt.Errorf("save step result %s/%s: %w", session, r.Step, err)
	}
	return nil
}

// ClearStepResults forgets a session's step results (after a reset).
func (db *DB) ClearStepResults(ctx context.Context, session string) error {
	_, err := db.db.ExecContext(ctx, `DELETE FROM step_results WHERE session = ?`, session)
	return err
}
