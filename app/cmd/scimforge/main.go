// Command scimforge is the SCIM 2.0 server.
//
//	scimforge serve    start the server (configuration: SCIMFORGE_* variables or flags)
//	scimforge token    print a new random bearer token
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/app/logbuf"
	"github.com/scimforge/scimforge/app/server"
)

const usage = `usage:
  scimforge serve [flags]   start the SCIM server (scimforge serve -h lists the flags)
  scimforge token           print a new random bearer token for SCIMFORGE_TOKEN
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
	case "token":
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		fmt.Println(hex.EncodeToString(b))
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
}

// tuneGC trades memory for CPU unless the operator chose GOGC/GOMEMLIMIT:
// a request allocates ~12 KB and the live heap is a few MB, so collecting
// at 5x the live heap instead of 2x cut server CPU per GET by about a
// quarter in make bench; the memory limit keeps the heap bounded anyway.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(512 << 20)
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
	logOut := logbuf.New(os.Stderr, 100*time.Millisecond)
	defer logOut.Close()
	log := slog.New(slog.NewTextHandler(logOut, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer srv.DB.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	log.Info("scimforge serving", "url", "http://"+ln.Addr().String()+config.BasePath, "database", cfg.DatabaseURL)
	errc := make(chan error, 1)
	go func() { errc <- srv.HTTP.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return srv.HTTP.Shutdown(sctx)
	}
	return nil
}
