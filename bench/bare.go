package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// bareServerCmd is the hidden subcommand the bench re-executes itself with
// to serve the baseline in a process of its own.
const bareServerCmd = "bare-server"

// bareServer serves the bytes of the file named by args[0] on every path,
// as application/scim+json, on a free 127.0.0.1 port it prints as
// "listening ADDR". It exits when its stdin (a pipe from the bench) closes,
// so it never outlives the bench.
func bareServer(args []string) int {
	if len(args) != 1 {
		fmt.Fprintf(os.Stderr, "usage: bench %s BODY_FILE\n", bareServerCmd)
		return exitSetup
	}
	body, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare-server:", err)
		return exitSetup
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare-server:", err)
		return exitSetup
	}
	srv := &http.Server{
		Handler: bareHandler(body),
		// The same timeouts as the SCIM server, so connection handling
		// is configured alike.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      55 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	fmt.Printf("listening %s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "bare-server:", err)
		return exitErrors
	}
	return exitOK
}

// bareHandler is the baseline: no auth, no routing, no database.
func bareHandler(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		_, _ = w.Write(body)
	})
}
