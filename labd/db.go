package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/xsky-academy/academy/labd/internal/sqlite"
)

// dbFlag adds --db: the database, $LABD_DB by default; empty means the
// SQLite file labd.db in the data folder.
func dbFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	return fs.String("db", getenv("LABD_DB"), "the database: a postgres://... URL, sqlite:PATH, or empty for the SQLite file labd.db in the data folder ($LABD_DB)")
}

// openDB opens (and migrates) the database --db names, or data's SQLite file.
func openDB(ctx context.Context, db, data string) (*sqlite.DB, error) {
	if db == "" {
		db = filepath.Join(data, "labd.db")
	} else if !strings.HasPrefix(db, "sqlite:") && !strings.HasPrefix(db, "postgres://") && !strings.HasPrefix(db, "postgresql://") {
		return nil, fmt.Errorf("--db %q: give a postgres:// URL, sqlite:PATH, or leave it empty for %s", db, filepath.Join(data, "labd.db"))
	}
	return sqlite.Open(ctx, db)
}

// migrateCmd brings the database's schema up to this labd's (serve does it
// too at start-up).
func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", dataDir(getenv), "data folder holding labd.db ($LABD_DATA)")
	dbURL := dbFlag(fs, getenv)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, err := openDB(ctx, *dbURL, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "migrate: %s schema is current\n", db.Dialect())
	return nil
}

const dbUsage = `usage: labd db copy --from sqlite:PATH --to postgres://...

Copies every row of an installation's database into a new, empty one (the
target is migrated first, and must have no rows), in one transaction, and
compares each table's count at the end. --from and --to each take a
postgres:// URL or sqlite:PATH.
`

func dbCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "copy" {
		if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(stdout, dbUsage)
			return nil
		}
		fmt.Fprint(stderr, dbUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("db copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the source: sqlite:PATH or postgres://...")
	to := fs.String("to", "", "the target, empty: sqlite:PATH or postgres://...")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return errors.New("db copy: --from and --to are required")
	}
	for _, d := range []string{*from, *to} {
		if !strings.HasPrefix(d, "sqlite:") && !strings.HasPrefix(d, "postgres://") && !strings.HasPrefix(d, "postgresql://") {
			return fmt.Errorf("db copy: %q: give sqlite:PATH or postgres://...", d)
		}
	}
	if p, ok := strings.CutPrefix(*from, "sqlite:"); ok {
		// Opening creates a missing file: a typo must not copy nothing.
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("db copy: --from: %w", err)
		}
	}
	src, err := sqlite.Open(ctx, *from)
	if err != nil {
		return fmt.Errorf("db copy: --from: %w", err)
	}
	defer src.Close()
	dst, err := sqlite.Open(ctx, *to)
	if err != nil {
		return fmt.Errorf("db copy: --to: %w", err)
	}
	defer dst.Close()
	counts, err := sqlite.Copy(ctx, src, dst)
	if counts != nil {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "table\tsource\tcopied\t")
		for _, c := range counts {
			fmt.Fprintf(tw, "%s\t%d\t%d\t\n", c.Table, c.Source, c.Target)
		}
		tw.Flush()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "db copy: %d tables copied, every count equal\n", len(counts))
	return nil
}
