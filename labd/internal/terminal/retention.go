package terminal

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Retention of recordings, enforced by the manager's loop every PruneEvery.
const (
	DefaultKeep     = 90 * 24 * time.Hour
	DefaultMaxBytes = 10 << 30
	PruneEvery      = 10 * time.Minute
)

// SetRetention sets how long recordings are kept (0: for ever) and the most
// they may take together (0: no cap), and prunes at once.
func (m *Manager) SetRetention(keep time.Duration, maxBytes int64) (removed int, err error) {
	m.mu.Lock()
	m.keep, m.maxBytes = keep, maxBytes
	m.mu.Unlock()
	return m.Prune(time.Now())
}

// Prune removes recordings older than the retention, then the oldest ones
// while they take more than the cap, and session folders left empty. A
// recording still being written is never removed.
func (m *Manager) Prune(now time.Time) (removed int, err error) {
	m.mu.Lock()
	keep, maxBytes := m.keep, m.maxBytes
	live := map[string]bool{}
	for _, h := range m.hubs {
		if h.rec != nil {
			live[h.rec.path] = true
		}
	}
	m.mu.Unlock()
	if m.dir == "" || (keep == 0 && maxBytes == 0) {
		return 0, nil
	}
	type file struct {
		path string
		size int64
		mod  time.Time
	}
	var files []file
	var total int64
	sessions, err := os.ReadDir(m.dir)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	for _, s := range sessions {
		if !s.IsDir() {
			continue
		}
		dir := filepath.Join(m.dir, s.Name())
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			info, err := e.Info()
			if err != nil || !strings.HasSuffix(e.Name(), ".cast") || !info.Mode().IsRegular() {
				continue
			}
			files = append(files, file{filepath.Join(dir, e.Name()), info.Size(), info.ModTime()})
			total += info.Size()
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod.Before(files[j].mod) })
	for _, f := range files {
		old := keep > 0 && now.Sub(f.mod) > keep
		over := maxBytes > 0 && total > maxBytes
		if !old && !over {
			break // files are oldest first: the rest are newer and fit
		}
		if live[f.path] {
			continue
		}
		if rerr := os.Remove(f.path); rerr != nil {
			err = rerr
			continue
		}
		total -= f.size
		removed++
		os.Remove(filepath.Dir(f.path)) // only if empty
	}
	if removed > 0 {
		m.log.Info("recordings pruned", "removed", removed, "bytes_left", total)
	}
	return removed, err
}
