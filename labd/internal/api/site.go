package api

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
)

// site serves the built portal (site/public): fingerprinted assets are
// cached as immutable, text is compressed (brotli or gzip, computed once per
// file version and kept in memory), unknown paths get the language's 404
// page, and "/" goes to the reader's language.
type site struct {
	root *os.Root
	// langs are the site's languages, the first the default; each has
	// /<lang>/404.html.
	langs []string

	mu   sync.Mutex
	zips map[zipKey][]byte
	size int // bytes held in zips
	// csp is siteCSP, with frame-src for lab ports' origins when offered.
	csp string
}

type zipKey struct {
	name     string
	encoding string
	mod      time.Time
	size     int64
}

// maxZipped bounds the memory the compressed copies take; past it, responses
// are compressed for each request instead of kept.
const maxZipped = 64 << 20

func newSite(dir string, langs []string) (*site, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &site{root: root, langs: langs, zips: map[zipKey][]byte{}, csp: siteCSP}, nil
}

// fingerprinted matches the names Hugo's fingerprint gives (a sha256 before
// the extension) and Pagefind's hashed chunks: their content never changes.
var fingerprinted = regexp.MustCompile(`[._][0-9a-f]{7,64}\.[a-z0-9_]+$`)

// compressible are the types worth compressing; Pagefind's index files are
// compressed already.
func compressible(ctype string) bool {
	ctype, _, _ = strings.Cut(ctype, ";")
	switch ctype {
	case "text/html", "text/css", "text/javascript", "application/javascript", "application/json",
		"image/svg+xml", "application/xml", "text/xml", "text/plain", "application/wasm", "application/manifest+json":
		return true
	}
	return false
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", s.csp)
	if r.URL.Path == "/" {
		http.Redirect(w, r, "/"+s.preferred(r)+"/", http.StatusFound)
		return
	}
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	f, st, err := s.open(name)
	if err == nil && st.IsDir() {
		if !strings.HasSuffix(r.URL.Path, "/") {
			// Relative links inside an index page need the slash.
			http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
			f.Close()
			return
		}
		f.Close()
		name = path.Join(name, "index.html")
		f, st, err = s.open(name)
	}
	status := http.StatusOK
	if err != nil {
		status = http.StatusNotFound
		name = s.lang(name) + "/404.html"
		if f, st, err = s.open(name); err != nil {
			http.NotFound(w, r)
			return
		}
	}
	defer f.Close()

	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	switch {
	case status != http.StatusOK:
		h.Set("Cache-Control", "no-store")
	case fingerprinted.MatchString(name) && !strings.HasSuffix(name, ".html"):
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	default:
		// Pages and unhashed files: the browser keeps them but asks each time
		// (Last-Modified makes that a cheap 304).
		h.Set("Cache-Control", "no-cache")
	}
	if status == http.StatusOK {
		if t := st.ModTime(); !t.IsZero() {
			h.Set("Last-Modified", t.UTC().Format(http.TimeFormat))
			if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !t.Truncate(time.Second).After(ims) {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}

	body := io.Reader(f)
	size := st.Size()
	if compressible(ctype) {
		h.Add("Vary", "Accept-Encoding")
		if enc := encoding(r.Header.Get("Accept-Encoding")); enc != "" {
			if z, err := s.zipped(name, enc, f, st); err == nil {
				h.Set("Content-Encoding", enc)
				body, size = bytes.NewReader(z), int64(len(z))
			}
		}
	}
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodGet {
		io.Copy(w, body)
	}
}

// siteCSP allows the site's own scripts, styles and WebAssembly (Pagefind)
// and nothing from elsewhere. Inline styles stay allowed: xterm.js sets some.
const siteCSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

func (s *site) open(name string) (*os.File, fs.FileInfo, error) {
	if name == "" || name == "." {
		name = "."
	}
	f, err := s.root.Open(name)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// lang is the language a path belongs to, the default when none.
func (s *site) lang(name string) string {
	first, _, _ := strings.Cut(name, "/")
	for _, l := range s.langs {
		if first == l {
			return l
		}
	}
	return s.langs[0]
}

// preferred picks the site language the browser ranks highest.
func (s *site) preferred(r *http.Request) string {
	best, bestQ := s.langs[0], -1.0
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		for _, l := range s.langs {
			if base == l && q > bestQ {
				best, bestQ = l, q
			}
		}
	}
	return best
}

// encoding picks brotli over gzip when the client takes both.
func encoding(accept string) string {
	var gz bool
	for _, part := range strings.Split(accept, ",") {
		tok, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.ReplaceAll(params, " ", "") == "q=0" {
			continue
		}
		switch strings.ToLower(tok) {
		case "br":
			return "br"
		case "gzip":
			gz = true
		}
	}
	if gz {
		return "gzip"
	}
	return ""
}

// zipped returns the file compressed, from memory when this version of the
// file was compressed before.
func (s *site) zipped(name, enc string, f io.Reader, st fs.FileInfo) ([]byte, error) {
	key := zipKey{name, enc, st.ModTime(), st.Size()}
	s.mu.Lock()
	z, ok := s.zips[key]
	s.mu.Unlock()
	if ok {
		return z, nil
	}
	var buf bytes.Buffer
	var zw io.WriteCloser
	if enc == "br" {
		zw = brotli.NewWriterLevel(&buf, 9)
	} else {
		zw, _ = gzip.NewWriterLevel(&buf, gzip.BestCompression)
	}
	if _, err := io.Copy(zw, f); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	z = buf.Bytes()
	s.mu.Lock()
	if s.size+len(z) <= maxZipped {
		s.zips[key] = z
		s.size += len(z)
	}
	s.mu.Unlock()
	return z, nil
}
