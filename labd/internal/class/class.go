// Package class runs lecturers' classes: a course taught in a time window to
// a roster of trainees. A class reserves lab capacity for its window (the
// labs' warm pools grow to the roster's size), invites its roster, and shows
// the lecturer each trainee's progress, with a flag on those who are stuck.
package class

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

// Class is a course taught by a lecturer to a roster in a time window.
type Class struct {
	ID       string
	Title    string
	Course   string // the course's id on the site, e.g. ceph-ops
	Lecturer string // user id
	Labs     []string
	Start    time.Time
	End      time.Time
	Capacity int // most trainees on the roster
	// StuckAfter flags a trainee with a live lab session and no step passed
	// for this long.
	StuckAfter time.Duration
	Created    time.Time
}

// Member is a trainee on a class's roster. User is empty until the trainee
// has an account.
type Member struct {
	Email   string
	Name    string
	User    string
	Invited time.Time
}

// Store keeps classes and rosters.
type Store interface {
	CreateClass(ctx context.Context, c *Class) error
	// Class returns nil, nil when there is none.
	Class(ctx context.Context, id string) (*Class, error)
	// Classes lists a lecturer's classes ("" for everyone's), newest first.
	Classes(ctx context.Context, lecturer string) ([]*Class, error)
	// AddMembers adds all of ms to the roster or none (a member already
	// there is an error).
	AddMembers(ctx context.Context, class string, ms []Member) error
	Members(ctx context.Context, class string) ([]Member, error)
	// EndClass moves a class's end to at.
	EndClass(ctx context.Context, id string, at time.Time) error
}

// Accounts is what classes need of user accounts.
type Accounts interface {
	// Invite makes an invitation link for a trainee of the class (the
	// class service has checked that the caller may).
	Invite(ctx context.Context, email, name, class string) (url string, err error)
	// Users maps e-mail addresses to the ids of the accounts that have them.
	Users(ctx context.Context, emails []string) (map[string]string, error)
}

// Labs is what classes need of the lab engine.
type Labs interface {
	Reserve(r lab.Reservation) error
	// Release drops every reservation of a key: its unclaimed pool
	// environments go now; claimed sessions keep running.
	Release(key string)
	Sessions(ctx context.Context, a lab.Actor, liveOnly bool) ([]*lab.Session, error)
}

// Service manages classes.
type Service struct {
	Store    Store
	Accounts Accounts
	Labs     Labs
	// LabExists says whether a lab id is offered.
	LabExists func(id string) bool
	Now       func() time.Time
}

// Who is the caller: a lecturer sees and manages their own classes, an
// admin every class.
type Who struct {
	User  string
	Admin bool
}

// warmLead is how long before a class starts its labs are warmed.
const warmLead = 15 * time.Minute

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func newID() string {
	b := make([]byte, 10)
	rand.Read(b)
	return "cls-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// Create validates and stores a new class of who's.
func (s *Service) Create(ctx context.Context, who Who, c Class) (*Class, error) {
	c.Title = strings.TrimSpace(c.Title)
	switch {
	case c.Title == "":
		return nil, lab.Errorf(lab.EInvalid, "title: a class needs a title")
	case len(c.Title) > 200:
		return nil, lab.Errorf(lab.EInvalid, "title: at most 200 characters")
	case c.Course == "":
		return nil, lab.Errorf(lab.EInvalid, "course: name the course taught")
	case c.Start.IsZero() || c.End.IsZero() || !c.End.After(c.Start):
		return nil, lab.Errorf(lab.EInvalid, "start, end: the window must end after it starts")
	case c.End.Sub(c.Start) > 90*24*time.Hour:
		return nil, lab.Errorf(lab.EInvalid, "end: a class lasts at most 90 days")
	case c.Capacity < 1 || c.Capacity > 500:
		return nil, lab.Errorf(lab.EInvalid, "capacity: between 1 and 500 trainees")
	case len(c.Labs) == 0:
		return nil, lab.Errorf(lab.EInvalid, "labs: list the labs the class uses")
	}
	for _, l := range c.Labs {
		if s.LabExists != nil && !s.LabExists(l) {
			return nil, lab.Errorf(lab.EInvalid, "labs: no lab %q", l)
		}
	}
	if hasDuplicates(c.Labs) {
		return nil, lab.Errorf(lab.EInvalid, "labs: a lab is listed twice")
	}
	if c.StuckAfter == 0 {
		c.StuckAfter = 15 * time.Minute
	}
	if c.StuckAfter < time.Minute {
		return nil, lab.Errorf(lab.EInvalid, "stuck_after: at least a minute")
	}
	c.ID, c.Lecturer, c.Created = newID(), who.User, s.now()
	if err := s.Store.CreateClass(ctx, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func hasDuplicates(xs []string) bool {
	seen := map[string]bool{}
	for _, x := range xs {
		if seen[x] {
			return true
		}
		seen[x] = true
	}
	return false
}

// Class returns a class who may manage; others get "not found".
func (s *Service) Class(ctx context.Context, who Who, id string) (*Class, error) {
	c, err := s.Store.Class(ctx, id)
	if err != nil {
		return nil, err
	}
	if c == nil || !(who.Admin || c.Lecturer == who.User) {
		return nil, lab.Errorf(lab.ENotFound, "no class %q", id)
	}
	return c, nil
}

// Classes lists who's classes (an admin's: all).
func (s *Service) Classes(ctx context.Context, who Who) ([]*Class, error) {
	if who.Admin {
		return s.Store.Classes(ctx, "")
	}
	return s.Store.Classes(ctx, who.User)
}

// Invitation is a roster member's invitation link, for the lecturer to send.
type Invitation struct {
	Email, Name, URL string
}

// Import adds a CSV roster to a class: all rows or none. Each new trainee
// gets an invitation link; the class's labs are reserved for the roster.
func (s *Service) Import(ctx context.Context, who Who, id string, csv []byte) ([]Invitation, error) {
	c, err := s.Class(ctx, who, id)
	if err != nil {
		return nil, err
	}
	rows, err := ParseRoster(csv)
	if err != nil {
		return nil, err
	}
	have, err := s.Store.Members(ctx, id)
	if err != nil {
		return nil, err
	}
	onRoster := map[string]bool{}
	for _, m := range have {
		onRoster[m.Email] = true
	}
	var errs RosterError
	for _, r := range rows {
		if onRoster[r.Email] {
			errs = append(errs, LineError{r.Line, "email", r.Email + " is already on the roster"})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(have)+len(rows) > c.Capacity {
		return nil, lab.Errorf(lab.EInvalid, "the roster would have %d trainees; the class takes %d", len(have)+len(rows), c.Capacity)
	}
	// Invitations first: one that fails leaves the roster as it was, and
	// importing again invites afresh (an invited account that was never
	// used gets a new link).
	invs := make([]Invitation, 0, len(rows))
	for _, r := range rows {
		url, err := s.Accounts.Invite(ctx, r.Email, r.Name, id)
		if err != nil {
			return nil, fmt.Errorf("invite %s: %w", r.Email, err)
		}
		invs = append(invs, Invitation{r.Email, r.Name, url})
	}
	now := s.now()
	ms := make([]Member, len(rows))
	for i, r := range rows {
		ms[i] = Member{Email: r.Email, Name: r.Name, Invited: now}
	}
	if err := s.Store.AddMembers(ctx, id, ms); err != nil {
		return nil, err
	}
	return invs, s.reserve(c, len(have)+len(rows))
}

// reserve sizes the class's labs' warm pools to its roster for its window;
// the roster's trainees take them ahead of anyone waiting.
func (s *Service) reserve(c *Class, n int) error {
	holds := func(ctx context.Context, user string) bool {
		ms, err := s.members(ctx, c.ID)
		if err != nil {
			return false
		}
		return slices.ContainsFunc(ms, func(m Member) bool { return m.User == user })
	}
	for _, l := range c.Labs {
		err := s.Labs.Reserve(lab.Reservation{Key: c.ID, Lab: l, Size: n, From: c.Start.Add(-warmLead), Until: c.End, Holds: holds})
		if err != nil {
			return fmt.Errorf("reserve %s for class %s: %w", l, c.ID, err)
		}
	}
	return nil
}

// End ends a class now, before its window closes: its reservation is
// dropped, so its labs' pools shrink at once and their unclaimed
// environments are removed; trainees' sessions already started keep running
// to their own limits. The class, its roster and progress stay. Ending an
// ended class changes nothing.
func (s *Service) End(ctx context.Context, who Who, id string) (*Class, error) {
	c, err := s.Class(ctx, who, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if c.End.After(now) {
		if err := s.Store.EndClass(ctx, id, now); err != nil {
			return nil, err
		}
		c.End = now
	}
	s.Labs.Release(c.ID)
	return c, nil
}

// Start reserves lab capacity for every class that has not ended, as a
// restarted labd must.
func (s *Service) Start(ctx context.Context) error {
	all, err := s.Store.Classes(ctx, "")
	if err != nil {
		return err
	}
	now := s.now()
	for _, c := range all {
		if !c.End.After(now) {
			continue
		}
		ms, err := s.Store.Members(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(ms) > 0 {
			if err := s.reserve(c, len(ms)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Roster lists a class's members with their account ids.
func (s *Service) Roster(ctx context.Context, who Who, id string) ([]Member, error) {
	if _, err := s.Class(ctx, who, id); err != nil {
		return nil, err
	}
	return s.members(ctx, id)
}

func (s *Service) members(ctx context.Context, id string) ([]Member, error) {
	ms, err := s.Store.Members(ctx, id)
	if err != nil {
		return nil, err
	}
	emails := make([]string, len(ms))
	for i, m := range ms {
		emails[i] = m.Email
	}
	users, err := s.Accounts.Users(ctx, emails)
	if err != nil {
		return nil, err
	}
	for i := range ms {
		ms[i].User = users[ms[i].Email]
	}
	return ms, nil
}

// Trainees lists the users on the rosters of a lecturer's classes: the
// trainees whose sessions the lecturer may watch.
func (s *Service) Trainees(ctx context.Context, lecturer string) ([]string, error) {
	cs, err := s.Store.Classes(ctx, lecturer)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range cs {
		ms, err := s.members(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if m.User != "" && !slices.Contains(out, m.User) {
				out = append(out, m.User)
			}
		}
	}
	return out, nil
}

// TraineeProgress is one trainee's work in a class's labs.
type TraineeProgress struct {
	Member
	Sessions     []*lab.Session // in the class's labs, newest first
	LastActivity time.Time
	// Stuck: a live session in which no step has passed (nor the session
	// started) for the class's StuckAfter.
	Stuck bool
	// Passed are the class's labs the trainee has finished (every step
	// passed in one session).
	Passed []string
}

// Progress reports every trainee of a class.
func (s *Service) Progress(ctx context.Context, who Who, id string, steps func(labID string) int) ([]TraineeProgress, error) {
	c, err := s.Class(ctx, who, id)
	if err != nil {
		return nil, err
	}
	ms, err := s.members(ctx, id)
	if err != nil {
		return nil, err
	}
	var users []string
	for _, m := range ms {
		if m.User != "" {
			users = append(users, m.User)
		}
	}
	byOwner := map[string][]*lab.Session{}
	if len(users) > 0 {
		all, err := s.Labs.Sessions(ctx, lab.Actor{User: users[0], Oversees: users}, false)
		if err != nil {
			return nil, err
		}
		for _, sess := range all {
			if slices.Contains(c.Labs, sess.Lab) {
				byOwner[sess.Owner] = append(byOwner[sess.Owner], sess)
			}
		}
	}
	now := s.now()
	out := make([]TraineeProgress, len(ms))
	for i, m := range ms {
		p := TraineeProgress{Member: m, Sessions: byOwner[m.User]}
		for _, sess := range p.Sessions {
			if sess.Activity.After(p.LastActivity) {
				p.LastActivity = sess.Activity
			}
			last := sess.Ready
			passed := 0
			for _, st := range sess.Steps {
				if st.Passed {
					passed++
					if st.Checked.After(last) {
						last = st.Checked
					}
				}
			}
			if sess.State.Live() && sess.State == lab.Ready && now.Sub(last) > c.StuckAfter && passed < steps(sess.Lab) {
				p.Stuck = true
			}
			if passed > 0 && passed == steps(sess.Lab) && !slices.Contains(p.Passed, sess.Lab) {
				p.Passed = append(p.Passed, sess.Lab)
			}
		}
		out[i] = p
	}
	return out, nil
}
