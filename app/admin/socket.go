package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// SocketPath is the admin socket of the SQLite database at dbPath.
func SocketPath(dbPath string) string { return dbPath + ".admin.sock" }

// timeout bounds one command on the socket; dataTimeout one data command
// (a reindex of a large store, or its backup, takes minutes).
const (
	timeout     = 30 * time.Second
	dataTimeout = 6 * time.Hour
)

func timeoutOf(op string) time.Duration {
	if dataOp(op) {
		return dataTimeout
	}
	return timeout
}

// Listener serves commands on an admin socket until Close.
type Listener struct {
	ln   *net.UnixListener
	path string
	wg   sync.WaitGroup
	// stopping ends the waits of events.read at Close (other commands
	// are waited for).
	stopping context.Context
	stop     context.CancelFunc
}

// Listen creates the socket at path (replacing a stale one: the caller
// holds the database's lock, so no other server can be using it) and
// serves commands on b in the background.
func Listen(path string, b Backend, log *slog.Logger) (*Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("admin socket %s exists and is not a socket; remove it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale admin socket: %w", err)
		}
	}
	// The socket is made in a private folder, restricted, then moved into
	// place, so that there is no moment at which others could connect.
	dir, err := os.MkdirTemp(filepath.Dir(path), ".scimforge-admin-")
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	defer os.Remove(dir)
	tmp := filepath.Join(dir, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	l := &Listener{ln: ln, path: path}
	l.stopping, l.stop = context.WithCancel(context.Background())
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					log.Error("admin socket", "err", err)
				}
				return
			}
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				serveConn(l.stopping, c, b, log)
			}()
		}
	}()
	return l, nil
}

func serveConn(stopping context.Context, c net.Conn, b Backend, log *slog.Logger) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	var req Request
	var resp Response
	if err := json.NewDecoder(io.LimitReader(c, 1<<16)).Decode(&req); err != nil {
		resp = Response{Error: "bad request: " + err.Error()}
	} else {
		limit := timeoutOf(req.Op)
		_ = c.SetDeadline(time.Now().Add(limit))
		parent := context.Background()
		if req.Op == OpEvents {
			parent = stopping
		}
		ctx, cancel := context.WithTimeout(parent, limit)
		start := time.Now()
		resp = Exec(ctx, b, req)
		cancel()
		// The log names the operation, never the token. Reading events
		// (scimforge events --follow polls) is not worth a line each.
		level := slog.LevelInfo
		if req.Op == OpEvents && resp.Error == "" {
			level = slog.LevelDebug
		}
		log.Log(context.Background(), level, "admin command", "op", req.Op, "tenant", req.Tenant, "id", req.ID, "ok", resp.Error == "", "duration", time.Since(start))
	}
	_ = json.NewEncoder(c).Encode(resp)
}

// Close stops serving, waits for commands under way and removes the socket.
func (l *Listener) Close() error {
	err := l.ln.Close()
	l.stop()
	l.wg.Wait()
	if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	return err
}

// errNoServer says that no server answers on the socket.
var errNoServer = errors.New("no server on the admin socket")

// Send runs req on the server listening at path; errNoServer when none does.
func Send(ctx context.Context, path string, req Request) (Response, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return Response{}, errNoServer
		}
		return Response{}, fmt.Errorf("admin socket %s: %w", path, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeoutOf(req.Op)))
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return Response{}, fmt.Errorf("admin socket: %w", err)
	}
	var resp Response
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return Response{}, fmt.Errorf("admin socket: no answer from the server: %w", err)
	}
	return resp, nil
}
