package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/xsky-academy/academy/labd/internal/exam"
)

var (
	_ exam.Store      = (*DB)(nil)
	_ exam.LabResults = (*DB)(nil)
)

const attemptColumns = `id, exam, owner, state, started_at, deadline, finished_at, questions, answers, results, score, passed`

func attempts(ctx context.Context, q querier, user, examID string) ([]*exam.Attempt, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+attemptColumns+` FROM exam_attempts
		WHERE owner = ? AND exam = ? ORDER BY started_at, rowid`, user, examID)
	if err != nil {
		return nil, fmt.Errorf("read attempts: %w", err)
	}
	defer rows.Close()
	var out []*exam.Attempt
	for rows.Next() {
		var a exam.Attempt
		var state, questions, answers, results string
		var started, deadline, finished int64
		if err := rows.Scan(&a.ID, &a.Exam, &a.User, &state, &started, &deadline, &finished,
			&questions, &answers, &results, &a.Score, &a.Passed); err != nil {
			return nil, err
		}
		a.State = exam.State(state)
		a.Started, a.Deadline, a.Finished = fromMS(started), fromMS(deadline), fromMS(finished)
		if err := json.Unmarshal([]byte(questions), &a.Questions); err != nil {
			return nil, fmt.Errorf("attempt %s: questions: %w", a.ID, err)
		}
		if err := json.Unmarshal([]byte(answers), &a.Answers); err != nil {
			return nil, fmt.Errorf("attempt %s: answers: %w", a.ID, err)
		}
		if err := json.Unmarshal([]byte(results), &a.Results); err != nil {
			return nil, fmt.Errorf("attempt %s: results: %w", a.ID, err)
		}
		out = append(out, &a)
	}
	return out, rows.Err()
}

// Attempts returns user's attempts of an exam, oldest first.
func (db *DB) Attempts(ctx context.Context, user, examID string) ([]*exam.Attempt, error) {
	return attempts(ctx, db.db, user, examID)
}

// UpdateAttempts reads user's attempts, lets fn decide, and saves what fn
// returns, in one transaction. Transactions begin IMMEDIATE (see Open), so
// two requests of the same user cannot both start an attempt.
func (db *DB) UpdateAttempts(ctx context.Context, user, examID string, fn func([]*exam.Attempt) ([]*exam.Attempt, error)) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	atts, err := attempts(ctx, tx, user, examID)
	if err != nil {
		return err
	}
	save, err := fn(atts)
	if err != nil {
		return err
	}
	for _, a := range save {
		if a.User != user || a.Exam != examID {
			return fmt.Errorf("save attempt %s: it belongs to %s/%s, not %s/%s", a.ID, a.User, a.Exam, user, examID)
		}
		questions, err := json.Marshal(a.Questions)
		if err != nil {
			return err
		}
		answers, err := json.Marshal(a.Answers)
		if err != nil {
			return err
		}
		results, err := json.Marshal(a.Results)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO exam_attempts (`+attemptColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET state = excluded.state, finished_at = excluded.finished_at,
				answers = excluded.answers, results = excluded.results, score = excluded.score, passed = excluded.passed`,
			a.ID, a.Exam, a.User, string(a.State), ms(a.Started), ms(a.Deadline), ms(a.Finished),
			string(questions), string(answers), string(results), a.Score, a.Passed)
		if err != nil {
			return fmt.Errorf("save attempt %s: %w", a.ID, err)
		}
	}
	return tx.Commit()
}

// PassedSteps lists each of user's lab sessions with the steps whose latest
// check passed.
func (db *DB) PassedSteps(ctx context.Context, user string) ([]exam.SessionSteps, error) {
	rows, err := db.db.QueryContext(ctx, `
		SELECT s.id, s.lab, r.step FROM sessions s JOIN step_results r ON r.session = s.id
		WHERE s.owner = ? AND r.passed ORDER BY s.created_at, s.id`, user)
	if err != nil {
		return nil, fmt.Errorf("read passed steps: %w", err)
	}
	defer rows.Close()
	var out []exam.SessionSteps
	for rows.Next() {
		var id, labID, step string
		if err := rows.Scan(&id, &labID, &step); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].Session != id {
			out = append(out, exam.SessionSteps{Session: id, Lab: labID})
		}
		out[len(out)-1].Steps = append(out[len(out)-1].Steps, step)
	}
	return out, rows.Err()
}
