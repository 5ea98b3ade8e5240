package auth

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// Ticket admits one websocket connection to one terminal. Browsers cannot
// set headers on a websocket, and a token in a URL ends up in logs; so the
// page asks for a ticket with its token and passes the ticket as a
// subprotocol. A ticket works once, for a short time.
type Ticket struct {
	User     User
	Session  string
	Node     string
	Observer bool
	Expires  time.Time
}

// TicketTTL is how long a ticket is good for.
const TicketTTL = 60 * time.Second

// Tickets holds the tickets not yet used.
type Tickets struct {
	mu  sync.Mutex
	m   map[string]Ticket
	now func() time.Time
}

// NewTickets returns an empty ticket store.
func NewTickets() *Tickets {
	return &Tickets{m: map[string]Ticket{}, now: time.Now}
}

// Issue stores t and returns its id (256 random bits).
func (ts *Tickets) Issue(t Ticket) string {
	var b [32]byte
	rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	now := ts.now()
	t.Expires = now.Add(TicketTTL)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for k, old := range ts.m { // forget expired tickets as new ones come
		if now.After(old.Expires) {
			delete(ts.m, k)
		}
	}
	ts.m[id] = t
	return id
}

// Redeem returns the ticket and forgets it; an unknown, used or expired
// ticket is not ok.
func (ts *Tickets) Redeem(id string) (Ticket, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t, ok := ts.m[id]
	delete(ts.m, id)
	if !ok || ts.now().After(t.Expires) {
		return Ticket{}, false
	}
	return t, true
}
