// Command scimforge is the SCIM 2.0 server and its tenant and token tools.
//
//	scimforge serve                 start the server (configuration: SCIMFORGE_* variables or flags)
//	scimforge version
//	scimforge healthcheck           exit 0 when the server configured here answers GET /healthz
//	scimforge tenant add|list|remove
//	scimforge token create|list|revoke|generate
//	scimforge reindex [--check]
//	scimforge backup [--force] PATH
//	scimforge events [--tenant T] [--after N] [--limit N] [--follow] [--json]
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"syscall"

	"github.com/scimforge/scimforge/app/admin"
	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/app/logbuf"
	"github.com/scimforge/scimforge/app/server"
	"github.com/scimforge/scimforge/scim/feed"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/web"
)

const usage = `usage:
  scimforge serve [flags]            start the SCIM server (scimforge serve -h lists the flags)
  scimforge version                  print the version, the commit it was built from and Go's version
  scimforge healthcheck [flags]      exit 0 if the server at SCIMFORGE_LISTEN answers GET /healthz, else 1 (for container health checks)
` + admin.Usage + `The tenant, token, reindex, backup and events commands read SCIMFORGE_DATABASE_URL and SCIMFORGE_TENANCY
as the server does, and work while it runs (a SQLite server runs them through PATH.admin.sock).
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		if err := serve(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "scimforge:", err)
			os.Exit(1)
		}
	case "version", "-version", "--version":
		fmt.Println(versionLine())
	case "healthcheck":
		if err := healthcheck(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "scimforge healthcheck:", err)
			os.Exit(1)
		}
	case "config-doc": // hidden: writes docs/configuration.md
		if err := configDoc(); err != nil {
			fmt.Fprintln(os.Stderr, "scimforge:", err)
			os.Exit(1)
		}
	case "tenant", "token", "reindex", "backup", "events":
		if err := manage(os.Args[1:]); err != nil {
			var ue *admin.UsageError
			if errors.As(err, &ue) {
				if ue.Msg != "" {
					fmt.Fprintln(os.Stderr, "scimforge:", ue.Msg)
				}
				fmt.Fprint(os.Stderr, usage)
				os.Exit(2)
			}
			fmt.Fprintln(os.Stderr, "scimforge:", err)
			os.Exit(1)
		}
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
}

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3"; empty for a development build, whose
// line then names the commit the binary was built from.
var version string

// versionLine is what scimforge version prints: the release (or "devel"),
// the commit and its time (from the Go build information when built
// inside a git checkout; "+dirty" for uncommitted changes), and Go's version.
func versionLine() string {
	v := version
	if v == "" {
		v = "devel"
	}
	line := "scimforge " + v
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return line
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		line += " (commit " + rev[:min(12, len(rev))] + dirty
		if at != "" {
			line += ", " + at
		}
		line += ")"
	}
	return line + " " + bi.GoVersion
}

// manage runs a tenant or token command.
func manage(args []string) error {
	setting, err := config.Lookup() // the environment, then SCIMFORGE_CONFIG_FILE
	if err != nil {
		return err
	}
	tenancy, err := web.ParseTenancy(setting("SCIMFORGE_TENANCY", ""))
	if err != nil {
		return err
	}
	cli := &admin.CLI{
		DatabaseURL: setting("SCIMFORGE_DATABASE_URL", config.DefaultDB),
		Tenancy:     tenancy,
		Open: func(ctx context.Context, url string) (admin.Backend, func() error, error) {
			db, creds, err := server.Open(ctx, url, sqlstore.Options{NoCache: true})
			if err != nil {
				return admin.Backend{}, nil, err
			}
			data, err := server.NewData(db, slog.New(slog.NewTextHandler(os.Stderr, nil)))
			if err != nil {
				db.Close()
				return admin.Backend{}, nil, err
			}
			events := feed.New(db.Write, db.Dialect) // reads only: retention is the server's
			return admin.Backend{Creds: creds, Purge: server.PurgeTenant, Data: data, Events: events}, db.Close, nil
		},
		Stdout: os.Stdout,
		Stderr: os.Stderr,
	}
	return cli.Run(context.Background(), args)
}

// tuneGC trades memory for CPU unless the operator chose GOGC/GOMEMLIMIT:
// a request allocates ~12 KB and the live heap is a few MB plus the row
// cache, so collecting at 5x the live heap instead of 2x cut server CPU per
// GET by about a quarter in make bench. The soft memory limit (80 MiB)
// caps that growth once the live heap is larger (a full row cache, a big
// page of results): with 512 MiB the Go heap reached 169 MiB at 1M users
// (make bench-1m).
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(80 << 20)
	}
}

// cpuProfile writes a CPU profile of the whole serve run to path (empty: no
// profile). It is a hidden knob for make bench -cpuprofile, not configuration.
func cpuProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func serve(args []string) error {
	cfg, err := config.Load(args)
	if err != nil {
		return err
	}
	tuneGC()
	stopProfile, err := cpuProfile(os.Getenv("SCIMFORGE_CPUPROFILE"))
	if err != nil {
		return err
	}
	defer stopProfile()
	logOut := logbuf.New(os.Stderr)
	defer logOut.Close()
	var handler slog.Handler = slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel})
	if cfg.LogFormat == "json" {
		handler = slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel})
	}
	log := slog.New(handler)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	closeSrv := sync.OnceValue(srv.Close)
	defer closeSrv()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if cfg.TLSCertFile != "" {
		certs, err := server.NewCertReloader(cfg.TLSCertFile, cfg.TLSKeyFile, log)
		if err != nil {
			ln.Close()
			return err
		}
		srv.HTTP.TLSConfig = certs.TLSConfig()
		scheme = "https"
	}
	base := scheme + "://" + ln.Addr().String() + config.BasePath
	switch cfg.Tenancy {
	case web.TenancyPath:
		base = scheme + "://" + ln.Addr().String() + "/t/{tenant}" + config.BasePath
	case web.TenancyHost:
		base = scheme + "://{tenant}.HOST" + config.BasePath
	}
	log.Info("scimforge serving", "url", base, "listen", ln.Addr().String(), "tenancy", cfg.Tenancy, "database", sqlstore.Redact(cfg.DatabaseURL))
	go func() {
		<-ctx.Done()
		stop() // a second SIGINT/SIGTERM ends the process at once
	}()
	// SIGTERM/SIGINT: drain and finish in-flight requests (Server.Serve),
	// stop the feed, close the database; the last line is written before
	// the deferred logOut.Close flushes the log.
	if err := srv.Serve(ctx, ln, scheme == "https", log); err != nil {
		return err
	}
	if err := closeSrv(); err != nil {
		log.Error("closing the database", "err", err)
	}
	log.Info("scimforge stopped")
	return nil
}
