package terminal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

// Manager owns the shells of every lab session node: one per node, started
// on first use, kept for a grace period after its writer leaves, ended with
// its lab session.
type Manager struct {
	shells   lab.Shells
	dir      string // recordings: dir/<session>/<node>-<n>.cast
	grace    time.Duration
	touch    func(session string)
	log      *slog.Logger
	mu       sync.Mutex
	hubs     map[string]*Hub          // session/node -> hub
	starting map[string]chan struct{} // session/node -> closed once its shell has started (or failed)
	keep     time.Duration            // recordings older than this are removed (0: kept)
	maxBytes int64                    // recordings beyond this total are removed, oldest first (0: no cap)
	stop     chan struct{}
	done     chan struct{}
}

// NewManager returns a manager that starts shells with shells, keeps
// recordings under dir, and calls touch on terminal input.
func NewManager(shells lab.Shells, dir string, grace time.Duration, touch func(session string), log *slog.Logger) *Manager {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Manager{shells: shells, dir: dir, grace: grace, touch: touch, log: log,
		hubs: map[string]*Hub{}, starting: map[string]chan struct{}{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go m.reap()
	return m
}

func key(session, node string) string { return session + "/" + node }

// Hub returns the node's shell hub, starting a shell when there is none or
// the last one has ended (and a writer is asking). Starting a shell takes a
// docker exec; other terminals are not held up meanwhile.
func (m *Manager) Hub(ctx context.Context, session, node string, writer bool, cols, rows int) (*Hub, error) {
	k := key(session, node)
	for {
		m.mu.Lock()
		if wait, ok := m.starting[k]; ok { // someone is starting this one
			m.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if h, ok := m.hubs[k]; ok && (!h.Exited() || !writer) {
			m.mu.Unlock()
			return h, nil
		} else if ok {
			delete(m.hubs, k)
			go h.Close()
		}
		done := make(chan struct{})
		m.starting[k] = done
		m.mu.Unlock()

		h, err := m.start(ctx, session, node, cols, rows)
		m.mu.Lock()
		delete(m.starting, k)
		close(done)
		if err == nil {
			m.hubs[k] = h
		}
		m.mu.Unlock()
		return h, err
	}
}

// start starts a shell and its hub.
func (m *Manager) start(ctx context.Context, session, node string, cols, rows int) (*Hub, error) {
	sh, err := m.shells.StartShell(ctx, session, node, cols, rows)
	if err != nil {
		return nil, err
	}
	var rec *Recorder
	if m.dir != "" {
		rec, err = m.newRecording(session, node, cols, rows)
		if err != nil {
			m.log.Warn("terminal recording", "session", session, "node", node, "err", err)
		}
	}
	h := NewHub(sh, cols, rows, rec, func() {
		if m.touch != nil {
			m.touch(session)
		}
	})
	m.log.Info("shell started", "session", session, "node", node)
	return h, nil
}

// newRecording creates the node's next recording, <node>-<n>.cast, n one
// more than the highest on disk: a restarted labd (whose adopted sessions
// already have recordings) continues the numbering.
func (m *Manager) newRecording(session, node string, cols, rows int) (*Recorder, error) {
	dir := filepath.Join(m.dir, session)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), node+"-")
		if num, ok2 := strings.CutSuffix(rest, ".cast"); ok && ok2 {
			if i, err := strconv.Atoi(num); err == nil {
				n = max(n, i)
			}
		}
	}
	for range 5 { // another labd on the same folder may take a number meanwhile
		n++
		rec, err := NewRecorder(filepath.Join(dir, fmt.Sprintf("%s-%d.cast", node, n)), cols, rows, session+" "+node)
		if !errors.Is(err, fs.ErrExist) {
			return rec, err
		}
	}
	return nil, fmt.Errorf("no free recording number for %s in %s", node, dir)
}

// Restart ends a node's shell, telling its clients "restarted"; the next
// writer to connect gets a new shell. A shell that takes no input (see
// Hub.Stalled) is replaced this way. It reports whether there was one.
func (m *Manager) Restart(session, node string) bool {
	k := key(session, node)
	m.mu.Lock()
	h, ok := m.hubs[k]
	delete(m.hubs, k)
	m.mu.Unlock()
	if ok {
		h.closeAs("restarted")
		m.log.Info("shell restarted", "session", session, "node", node)
	}
	return ok
}

// EndSession ends every shell of a session (the lab session ended or was reset).
func (m *Manager) EndSession(session string) {
	m.mu.Lock()
	var ended []*Hub
	for k, h := range m.hubs {
		if strings.HasPrefix(k, session+"/") {
			ended = append(ended, h)
			delete(m.hubs, k)
		}
	}
	m.mu.Unlock()
	for _, h := range ended {
		h.Close()
	}
}

// reap ends shells whose writer has been gone for the grace period.
func (m *Manager) reap() {
	defer close(m.done)
	t := time.NewTicker(min(m.grace/4+time.Millisecond, 10*time.Second))
	defer t.Stop()
	prune := time.NewTicker(PruneEvery)
	defer prune.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-prune.C:
			if _, err := m.Prune(time.Now()); err != nil {
				m.log.Warn("prune recordings", "err", err)
			}
			continue
		case <-t.C:
		}
		m.mu.Lock()
		var ended []*Hub
		for k, h := range m.hubs {
			if h.Idle() > m.grace {
				ended = append(ended, h)
				delete(m.hubs, k)
				m.log.Info("shell ended after its grace period", "terminal", k)
			}
		}
		m.mu.Unlock()
		for _, h := range ended {
			h.Close()
		}
	}
}

// Close ends every shell.
func (m *Manager) Close() {
	close(m.stop)
	<-m.done
	m.mu.Lock()
	hubs := m.hubs
	m.hubs = map[string]*Hub{}
	m.mu.Unlock()
	for _, h := range hubs {
		h.Close()
	}
}

// Recording is one recorded terminal.
type Recording struct {
	Name string    `json:"name"` // <node>-<n>
	Node string    `json:"node"`
	Size int64     `json:"size"`
	Time time.Time `json:"modified"`
}

// Recordings lists a session's recordings.
func (m *Manager) Recordings(session string) ([]Recording, error) {
	m.flush(session)
	entries, err := os.ReadDir(filepath.Join(m.dir, session))
	if os.IsNotExist(err) {
		return []Recording{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []Recording{}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".cast")
		if !ok {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		node := name[:max(0, strings.LastIndex(name, "-"))]
		out = append(out, Recording{Name: name, Node: node, Size: info.Size(), Time: info.ModTime()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RecordingPath is the file of a recording, flushed; ok is false if there is none.
func (m *Manager) RecordingPath(session, name string) (string, bool) {
	if strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") {
		return "", false
	}
	m.flush(session)
	p := filepath.Join(m.dir, session, name+".cast")
	if _, err := os.Stat(p); err != nil {
		return "", false
	}
	return p, true
}

func (m *Manager) flush(session string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, h := range m.hubs {
		if strings.HasPrefix(k, session+"/") && h.rec != nil {
			h.rec.Flush()
		}
	}
}
