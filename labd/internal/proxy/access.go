package proxy

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Access: a lab port's origin carries a token of its session in its host
// name; the API hands the lab page a short-lived, single-use signed link to
// /.labd/open on that origin, which turns it into a host-only cookie naming
// a grant. Tokens, links and grants live in labd's memory and die with the
// session (ended, reset or deleted): EndSession.

// openPath is the lab origin's one path of labd's own.
const openPath = "/.labd/open"

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// randomID is 128 random bits as 26 lowercase letters and digits.
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return strings.ToLower(b32.EncodeToString(b[:]))
}

const tokenLen = 26

type grant struct {
	session, host, user string
}

// sessionToken returns the token of session's origins, making it on first use.
func (p *Proxy) sessionToken(session string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.tokens[session]; ok {
		return t
	}
	t := randomID()
	p.tokens[session] = t
	p.sessions[t] = session
	return t
}

// Host is the host name (without port) of a node's port of session.
func (p *Proxy) Host(session, node string, port int) string {
	return "p" + strconv.Itoa(port) + "-" + node + "-" + p.sessionToken(session) + "." + p.cfg.Domain
}

// Link returns the signed link that opens path on the origin of a node's
// port of session for user; the caller has checked that user may. hostPort
// is the port the browser reaches labd on ("" for the scheme's default).
func (p *Proxy) Link(session, node string, port int, path, user, hostPort string) string {
	host := p.Host(session, node, port)
	exp := p.cfg.Now().Add(p.cfg.LinkTTL)
	var nonce [12]byte
	rand.Read(nonce[:])
	payload := make([]byte, 8, 64)
	binary.BigEndian.PutUint64(payload, uint64(exp.Unix()))
	payload = append(payload, nonce[:]...)
	payload = append(payload, user...)
	sig := p.sign(host, payload)
	t := base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(sig)
	origin := "http://"
	if p.cfg.Secure {
		origin = "https://"
	}
	origin += host
	if hostPort != "" {
		origin += ":" + hostPort
	}
	return origin + openPath + "?t=" + t + "&next=" + urlPath(path)
}

// urlPath escapes what a query value must not hold; paths are validated lab
// fields.
func urlPath(p string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", "#", "%23").Replace(p)
}

func (p *Proxy) sign(host string, payload []byte) []byte {
	m := hmac.New(sha256.New, p.key[:])
	m.Write([]byte(host))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)
}

var errLink = errors.New("the link is not valid here, has been used or has expired: open the port again from the lab page")

// redeem checks a signed link for host and returns its user. A link works
// once, before it expires.
func (p *Proxy) redeem(host, t string) (string, error) {
	ps, ss, ok := strings.Cut(t, ".")
	payload, err1 := base64.RawURLEncoding.DecodeString(ps)
	sig, err2 := base64.RawURLEncoding.DecodeString(ss)
	if !ok || err1 != nil || err2 != nil || len(payload) < 20 || !hmac.Equal(sig, p.sign(host, payload)) {
		return "", errLink
	}
	now := p.cfg.Now()
	exp := time.Unix(int64(binary.BigEndian.Uint64(payload)), 0)
	if !now.Before(exp) {
		return "", errLink
	}
	nonce := string(payload[8:20])
	p.mu.Lock()
	defer p.mu.Unlock()
	for n, e := range p.used {
		if !now.Before(e) {
			delete(p.used, n)
		}
	}
	if _, seen := p.used[nonce]; seen {
		return "", errLink
	}
	p.used[nonce] = exp
	return string(payload[20:]), nil
}

// maxGrants bounds the grants of one session (browsers, tabs, re-opens);
// the oldest goes first.
const maxGrants = 64

// newGrant records a grant of host to user and returns its cookie.
func (p *Proxy) newGrant(session, host, user string) *http.Cookie {
	id := randomID()
	p.mu.Lock()
	p.grants[id] = grant{session: session, host: host, user: user}
	p.order[session] = append(p.order[session], id)
	if o := p.order[session]; len(o) > maxGrants {
		delete(p.grants, o[0])
		p.order[session] = o[1:]
	}
	p.mu.Unlock()
	// The lab page embeds the port's origin: a cross-site frame, whose
	// cookies must be SameSite=None, hence Secure (browsers take Secure
	// cookies from http://*.localhost too). Partitioned keeps this one to
	// frames under the portal's site and to the port's own window.
	return &http.Cookie{Name: p.cookieName(), Value: id, Path: "/", HttpOnly: true,
		Secure: true, SameSite: http.SameSiteNoneMode, Partitioned: true}
}

// cookieName: __Host- makes browsers refuse the cookie from any other host,
// or with a Domain (set by a lab app on a sibling origin). On plain http
// (a development labd on *.localhost) a prefixed name is not kept.
func (p *Proxy) cookieName() string {
	if p.cfg.Secure {
		return "__Host-labd-port"
	}
	return "labd-port"
}

// granted reports whether r carries a grant for host of session.
func (p *Proxy) granted(r *http.Request, session, host string) (grant, bool) {
	name := p.cookieName()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range r.Cookies() {
		if c.Name != name {
			continue
		}
		if g, ok := p.grants[c.Value]; ok && g.session == session && g.host == host {
			return g, true
		}
	}
	return grant{}, false
}

// EndSession revokes everything of session (its token, links' origins and
// grants) and closes its open connections: its ports stop answering at
// once. labd calls it when a session's environment is removed.
func (p *Proxy) EndSession(session string) {
	p.mu.Lock()
	if t, ok := p.tokens[session]; ok {
		delete(p.sessions, t)
		delete(p.tokens, session)
	}
	for _, id := range p.order[session] {
		delete(p.grants, id)
	}
	delete(p.order, session)
	conns := p.conns[session]
	delete(p.conns, session)
	p.mu.Unlock()
	for c := range conns {
		c.Close()
	}
}
