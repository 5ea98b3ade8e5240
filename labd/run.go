package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/xsky-academy/academy/labd/internal/api"
	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/certificate"
	"github.com/xsky-academy/academy/labd/internal/class"
	"github.com/xsky-academy/academy/labd/internal/docker"
	"github.com/xsky-academy/academy/labd/internal/exam"
	"github.com/xsky-academy/academy/labd/internal/host"
	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/local"
	"github.com/xsky-academy/academy/labd/internal/proxy"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
	"github.com/xsky-academy/academy/labd/internal/terminal"
)

const usage = `labd runs XSKY Academy's lab sessions and serves the portal.

Usage:
  labd serve     [flags]                 run the service (labd serve -h for flags)
  labd validate  [--certs DIR] [DIR...]  check lab files (default ./labs) and programs (default ./certs)
  labd token     --user NAME --role trainee|lecturer|admin [--ttl 1h, at most 720h] [--data ./data]
  labd user      add|list|passwd|role|deactivate|activate|delete ...  manage accounts (labd user help)
  labd cert      verify FILE.jwt [--jwks FILE] [--status FILE] [--issuer URL]   offline check
  labd keys      rotate|list [--data ./data]   certificate signing keys
  labd migrate   [--db URL] [--data ./data]   bring the database's schema up to date (serve does at start)
  labd db        copy --from sqlite:PATH --to postgres://...   move an installation's data to a new database
  labd import    killercoda SRC [--id ID] [--out labs/ID] [--force] [--lang zh]   convert scenarios into labs
`

// The classes work invites rosters through accounts.
var _ class.Accounts = auth.RosterInvites{}

// run is labd's whole program, testable: it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], getenv, stdout, stderr)
	case "validate":
		err = validate(args[1:], getenv, stdout, stderr)
	case "token":
		err = token(args[1:], getenv, stdout, stderr)
	case "user":
		// The one command that reads standard input (a password).
		err = userCmd(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	case "cert":
		err = certCmd(args[1:], getenv, stdout, stderr)
	case "keys":
		err = keysCmd(args[1:], getenv, stdout, stderr)
	case "migrate":
		err = migrateCmd(ctx, args[1:], getenv, stdout, stderr)
	case "db":
		err = dbCmd(ctx, args[1:], stdout, stderr)
	case "import":
		err = importCmd(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "labd: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintln(stderr, "labd:", err)
	return 1
}

// errUsage means the flag package has already told the user what was wrong.
var errUsage = errors.New("usage")

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// validate checks every lab folder under each DIR and the certification
// programs, and prints one line per problem: file:line: field: message.
func validate(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	certs := getenv("LABD_CERTS")
	given := certs != ""
	if certs == "" {
		certs = "./certs"
	}
	fs.StringVar(&certs, "certs", certs, "certification programs ($LABD_CERTS); \"\" to skip")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "certs" })
	if _, err := os.Stat(certs); !given && errors.Is(err, os.ErrNotExist) {
		certs = "" // the default folder is optional; one asked for is not
	}
	dirs := fs.Args()
	if len(dirs) == 0 {
		dirs = []string{"./labs"}
	}
	failed := false
	report := func(what string, err error) error {
		var fe lab.FieldErrors
		if errors.As(err, &fe) {
			for _, e := range fe {
				fmt.Fprintln(stdout, e)
			}
			failed = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	labs := map[string]bool{}
	for _, dir := range dirs {
		cat, err := lab.LoadCatalog(dir)
		if err := report(dir, err); err != nil {
			return err
		}
		if cat != nil {
			for _, d := range cat.All() {
				for _, w := range d.Warnings { // worth knowing, not wrong
					fmt.Fprintln(stdout, w)
				}
			}
			fmt.Fprintf(stdout, "%s: %d labs ok\n", dir, len(cat.All()))
		}
		// Programs are checked against every lab folder, even one whose
		// lab.yaml has problems: those are reported above.
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.IsDir() {
				labs[e.Name()] = true
			}
		}
	}
	if certs != "" {
		progs, err := exam.LoadPrograms(certs, func(id string) bool { return labs[id] && id != "images" })
		if err := report(certs, err); err != nil {
			return err
		}
		if progs != nil {
			fmt.Fprintf(stdout, "%s: %d programs ok\n", certs, len(progs.All()))
		}
	}
	if failed {
		return errors.New("lab or program files have problems")
	}
	return nil
}

func token(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "user id")
	role := fs.String("role", "trainee", "trainee, lecturer or admin")
	ttl := fs.Duration("ttl", time.Hour, "lifetime: more than 0, at most 720h (30 days)")
	data := getenv("LABD_DATA")
	if data == "" {
		data = "./data"
	}
	fs.StringVar(&data, "data", data, "data folder holding the signing key ($LABD_DATA)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return err
	}
	if *user == "" {
		return errors.New("token: --user is required")
	}
	tokens, err := auth.LoadTokens(data)
	if err != nil {
		return err
	}
	t, err := tokens.Issue(auth.User{ID: *user, Role: r}, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, t)
	return nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs, getenv)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.finish(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))

	catalog, err := lab.LoadCatalog(cfg.Labs)
	if err != nil {
		return fmt.Errorf("load labs from %s:\n%w", cfg.Labs, err)
	}
	for id := range cfg.WarmPool {
		if _, ok := catalog.Lab(id); !ok {
			return fmt.Errorf("warm-pool: no lab %q", id)
		}
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return err
	}
	db, err := openDB(ctx, cfg.DB, cfg.Data)
	if err != nil {
		return err
	}
	defer db.Close()
	tokens, err := auth.LoadTokens(cfg.Data)
	if err != nil {
		return err
	}
	accounts, err := auth.NewAccounts(db, auth.Options{})
	if err != nil {
		return err
	}
	certKeys, err := certificate.OpenKeys(filepath.Join(cfg.Data, "keys"))
	if err != nil {
		return err
	}
	certs := certificate.NewService(db, certKeys, certificate.Issuer{URL: cfg.URL, Name: issuerName, NameZH: issuerNameZH})
	pdf := &certificate.PDF{}
	if err := pdf.Fonts(); err != nil {
		log.Warn("certificate PDFs are unavailable until their fonts are installed (make deps)", "err", err)
	}
	var rt interface {
		lab.Runtime
		lab.Shells
	}
	var ready = map[string]api.Checker{"database": db}
	var dial proxy.DialFunc // local nodes listen on this machine
	switch cfg.Runtime {
	case "local":
		log.Warn("RUNTIME LOCAL: lab nodes are plain processes on this machine with labd's rights. NOT A SANDBOX: for development only.")
		local, err := local.New(filepath.Join(cfg.Data, "local-nodes"))
		if err != nil {
			return err
		}
		rt = local
	default:
		d, err := docker.New(cfg.Instance, cfg.Subnet)
		if err != nil {
			return err
		}
		defer d.Close()
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = d.Ping(pctx)
		cancel()
		if err != nil {
			return fmt.Errorf("no Docker daemon answers (run make docker): %w", err)
		}
		// A labd that crashed left its shells running in the nodes it
		// hands over; nothing holds them now (no terminal is open yet).
		ectx, cancel := context.WithTimeout(ctx, time.Minute)
		n, err := d.EndShells(ectx)
		cancel()
		if err != nil {
			log.Warn("end the shells of a previous labd", "err", err)
		} else if n > 0 {
			log.Info("ended the shells of a previous labd", "shells", n)
		}
		wctx, stopWatch := context.WithCancel(ctx)
		defer stopWatch()
		go d.Watch(wctx, log.Warn)
		rt, ready["docker"] = d, d
		dial = d.DialNode
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var svc *lab.Service
	var ports *proxy.Proxy
	terms := terminal.NewManager(rt, filepath.Join(cfg.Data, "recordings"), cfg.Grace,
		func(session string) { svc.Touch(session) }, log)
	defer terms.Close()
	if _, err := terms.SetRetention(cfg.RecKeep, cfg.RecMax); err != nil {
		log.Warn("prune recordings", "err", err)
	}
	// Admission by count and by what the host has left (memory, kernel AIO
	// slots, cores for setups): a lab that would fail or slow the others
	// waits in line.
	procs := host.Proc{}
	admit := &lab.ResourceAdmission{Next: lab.CountAdmission{Max: cfg.MaxSessions}, Host: procs, Log: log}
	svc = lab.NewService(lab.Config{
		MaxPerUser: cfg.MaxPerUser, MaxSessions: cfg.MaxSessions, WarmPool: cfg.WarmPool,
		ReapEvery: cfg.ReapEvery, Log: log, Metrics: api.NewMetrics(reg),
		OnDestroy: func(session string) {
			terms.EndSession(session)
			ports.EndSession(session)
		},
		Admission: admit,
	}, catalog, rt, db)
	reg.MustRegister(api.ResourceCollector{Labs: svc, Host: procs})
	// Recovery runs in the background: labd listens at once, /readyz says
	// "sessions" unavailable until the previous labd's are adopted.
	if err := svc.Start(ctx); err != nil {
		return err
	}
	defer svc.Close()
	ready["sessions"] = svc
	classes := &class.Service{Store: db, Accounts: auth.RosterInvites{Accounts: accounts}, Labs: svc,
		LabExists: func(id string) bool { _, ok := catalog.Lab(id); return ok }}
	// Classes not ended get their lab capacity reserved again.
	if err := classes.Start(ctx); err != nil {
		return fmt.Errorf("reserve capacity for classes: %w", err)
	}

	exams, err := loadExams(cfg.Certs, catalog, db, log)
	if err != nil {
		return err
	}
	if exams != nil {
		exams.Issuer = newCertIssuer(certs, accounts, catalog)
		// certified-lecturer grants lecturer; Grant never lowers a role.
		exams.Roles = exam.RoleGranterFunc(func(ctx context.Context, user, role string) error {
			_, err := accounts.Grant(ctx, user, auth.Role(role))
			return err
		})
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	origins := append(listenOrigins(ln.Addr()), cfg.Origins...)
	ports = proxy.New(proxy.Config{
		Domain: cfg.LabDomain, Secure: strings.HasPrefix(cfg.URL, "https:"), Targets: svc, Dial: dial,
		FrameAncestors: append([]string{siteOrigin(cfg.URL)}, origins...),
		CookieNames:    api.CookieNames, Log: log,
	})
	defer ports.Close()
	srv := &api.Server{
		Ports: ports, PortFrames: []string{ports.FrameSource()}, Labs: svc, Classes: classes, Exams: exams, Terminals: terms, Tickets: auth.NewTickets(), URL: cfg.URL,
		Tokens: tokens, Accounts: accounts, Log: log, SiteDir: cfg.Site, Registry: reg, Ready: ready,
		Certificates: certs, PDF: pdf,
	}
	srv.Origins = origins
	hs := &http.Server{
		// Hosts under --lab-domain are lab web ports; every other is the portal.
		Handler:           ports.Route(srv.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("labd listening", "addr", ln.Addr().String(), "labs", len(catalog.All()), "certificate_issuer", cfg.URL)
	fmt.Fprintf(stdout, "labd: listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	log.Info("labd stopping; lab sessions keep running and are adopted at the next start")
	return hs.Shutdown(sctx)
}

// loadExams loads the certification programs from dir and makes the exam
// service on the database. A missing folder means no programs (their routes
// answer 404). serve sets its Issuer.
func loadExams(dir string, labs *lab.Catalog, db *sqlite.DB, log *slog.Logger) (*exam.Service, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		log.Warn("no certification programs: the folder does not exist", "certs", dir)
		return nil, nil
	}
	progs, err := exam.LoadPrograms(dir, func(id string) bool { _, ok := labs.Lab(id); return ok })
	if err != nil {
		return nil, fmt.Errorf("load programs from %s:\n%w", dir, err)
	}
	return &exam.Service{Programs: progs, Labs: labs, Store: db, Results: db, Log: log}, nil
}

// siteOrigin is the origin of the site's base URL.
func siteOrigin(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	return u.Scheme + "://" + u.Host
}

// listenOrigins are the origins of labd's own listening address when it is
// a loopback one (a developer's or a test's labd on 127.0.0.1:PORT, whatever
// --url says): pages served from there are labd's own.
func listenOrigins(a net.Addr) []string {
	ta, ok := a.(*net.TCPAddr)
	if !ok || !ta.IP.IsLoopback() {
		return nil
	}
	port := strconv.Itoa(ta.Port)
	return []string{"http://" + net.JoinHostPort(ta.IP.String(), port), "http://localhost:" + port}
}
