package sqlite

import (
	"context"
	"fmt"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

var _ lab.EnteredStore = (*DB)(nil)

// SaveEntered records that a step of a session was entered (lab.EnteredStore).
func (db *DB) SaveEntered(ctx context.Context, session, step string, opened bool) error {
	_, err := db.db.ExecContext(ctx, `
		INSERT INTO entered_steps (session, step, opened) VALUES (?, ?, ?)
		ON CONFLICT (session, step) DO UPDATE SET opened = (entered_steps.opened OR excluded.opened)`,
		session, step, opened)
	if err != nil {
		return fmt.Errorf("save entered step %s/%s: %w", session, step, err)
	}
	return nil
}

// Entered returns a session's entered steps: step -> opened.
func (db *DB) Entered(ctx context.Context, session string) (map[string]bool, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT step, opened FROM entered_steps WHERE session = ?`, session)
	if err != nil {
		return nil, fmt.Errorf("read entered steps of %s: %w", session, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var step string
		var opened bool
		if err := rows.Scan(&step, &opened); err != nil {
			return nil, err
		}
		out[step] = opened
	}
	return out, rows.Err()
}

// ClearEntered forgets a session's entered steps (a new environment).
func (db *DB) ClearEntered(ctx context.Context, session string) error {
	_, err := db.db.ExecContext(ctx, `DELETE FROM entered_steps WHERE session = ?`, session)
	if err != nil {
		return fmt.Errorf("clear entered steps of %s: %w", session, err)
	}
	return nil
}
