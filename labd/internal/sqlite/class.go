package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/xsky-academy/academy/labd/internal/class"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

var _ class.Store = (*DB)(nil)

const classColumns = `id, title, course, lecturer, labs, start_at, end_at, capacity, stuck_after, created_at`

// CreateClass stores a new class.
func (db *DB) CreateClass(ctx context.Context, c *class.Class) error {
	labs, _ := json.Marshal(c.Labs)
	_, err := db.db.ExecContext(ctx, `INSERT INTO classes (`+classColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Title, c.Course, c.Lecturer, string(labs), ms(c.Start), ms(c.End), c.Capacity,
		c.StuckAfter.Milliseconds(), ms(c.Created))
	if err != nil {
		return fmt.Errorf("save class %s: %w", c.ID, err)
	}
	return nil
}

func scanClass(row interface{ Scan(...any) error }) (*class.Class, error) {
	var c class.Class
	var labs string
	var start, end, stuck, created int64
	if err := row.Scan(&c.ID, &c.Title, &c.Course, &c.Lecturer, &labs, &start, &end, &c.Capacity, &stuck, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(labs), &c.Labs); err != nil {
		return nil, fmt.Errorf("class %s: labs: %w", c.ID, err)
	}
	c.Start, c.End, c.Created = fromMS(start), fromMS(end), fromMS(created)
	c.StuckAfter = time.Duration(stuck) * time.Millisecond
	return &c, nil
}

// Class returns a class, or nil when there is none.
func (db *DB) Class(ctx context.Context, id string) (*class.Class, error) {
	c, err := scanClass(db.db.QueryRowContext(ctx, `SELECT `+classColumns+` FROM classes WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read class %s: %w", id, err)
	}
	return c, nil
}

// Classes lists a lecturer's classes ("" for all), newest first.
func (db *DB) Classes(ctx context.Context, lecturer string) ([]*class.Class, error) {
	q, args := `SELECT `+classColumns+` FROM classes`, []any{}
	if lecturer != "" {
		q += ` WHERE lecturer = ?`
		args = append(args, lecturer)
	}
	rows, err := db.db.QueryContext(ctx, q+` ORDER BY created_at DESC, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list classes: %w", err)
	}
	defer rows.Close()
	var out []*class.Class
	for rows.Next() {
		c, err := scanClass(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AddMembers adds a roster's rows in one transaction: all or none.
func (db *DB) AddMembers(ctx context.Context, classID string, members []class.Member) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, m := range members {
		_, err := tx.ExecContext(ctx, `INSERT INTO class_members (class, email, name, invited_at) VALUES (?, ?, ?, ?)`,
			classID, m.Email, m.Name, ms(m.Invited))
		if err != nil {
			if db.db.isConstraint(err) {
				return lab.Errorf(lab.EConflict, "%s is already on the roster", m.Email)
			}
			return fmt.Errorf("add %s to class %s: %w", m.Email, classID, err)
		}
	}
	return tx.Commit()
}

// Members lists a class's roster in the order it was imported.
func (db *DB) Members(ctx context.Context, classID string) ([]class.Member, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT email, name, invited_at FROM class_members WHERE class = ? ORDER BY rowid`, classID)
	if err != nil {
		return nil, fmt.Errorf("list class %s: %w", classID, err)
	}
	defer rows.Close()
	var out []class.Member
	for rows.Next() {
		var m class.Member
		var invited int64
		if err := rows.Scan(&m.Email, &m.Name, &invited); err != nil {
			return nil, err
		}
		m.Invited = fromMS(invited)
		out = append(out, m)
	}
	return out, rows.Err()
}

// EndClass moves a class's end to at (a class ended early).
func (db *DB) EndClass(ctx context.Context, id string, at time.Time) error {
	_, err := db.db.ExecContext(ctx, `UPDATE classes SET end_at = ? WHERE id = ?`, ms(at), id)
	if err != nil {
		return fmt.Errorf("end class %s: %w", id, err)
	}
	return nil
}
