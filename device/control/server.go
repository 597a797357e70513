package control

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Service is what the daemon offers the CLI. Each method must be safe to
// call from several connections at once.
type Service interface {
	Status() Status
	History(since time.Time) ([]HistoryEntry, error)
	Audio(id string) (Audio, error)
	Delete(req Request) (DeleteResult, error)
	Mute(source string) error
	Unmute(source string) error
}

// Server answers CLI requests on a unix socket.
type Server struct {
	Path    string
	Group   string // group allowed to connect (mode 0660); "" keeps the process group
	Service Service
	Logger  *slog.Logger
	// MaxConns bounds the clients served at once [16]; more are told the
	// daemon is busy. Each holds a file descriptor the microphone, the
	// store and the hub link also need.
	MaxConns int
	// ReadTimeout is how long a client has to send its request [5s]: a
	// CLI sends it at once, an idle connection is dropped.
	ReadTimeout time.Duration
}

const (
	// ioTimeout bounds how long one client may hold a connection.
	ioTimeout          = 30 * time.Second
	defaultMaxConns    = 16
	defaultReadTimeout = 5 * time.Second
	// The longest wait between accepts while they fail (out of file
	// descriptors): long enough not to spin, short enough to serve soon.
	maxAcceptBackoff = time.Second
)

// CheckSocketPath says whether path can take the control socket: nothing
// there yet, or a socket (the daemon's own, or one a crash left behind).
// Anything else is someone's file and is never replaced.
func CheckSocketPath(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("control socket %s: %w", path, err)
	case fi.Mode().Type() == os.ModeSocket:
		return nil
	}
	kind := "a special file"
	switch t := fi.Mode().Type(); {
	case t == 0:
		kind = "a regular file"
	case t == os.ModeDir:
		kind = "a directory"
	case t == os.ModeSymlink:
		kind = "a symbolic link"
	}
	return fmt.Errorf("control socket %s: the path is %s, not a socket; refusing to replace it (move it away or set control.socket to another path)", path, kind)
}

// Run listens until ctx ends. A stale socket file left by a crash is
// replaced; a socket another live daemon answers on, or any other file at
// the path, is an error. Failing accepts (out of file descriptors) are
// waited out, never fatal: the daemon's microphone must not die of them.
func (s *Server) Run(ctx context.Context) error {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	maxConns := cmp.Or(s.MaxConns, defaultMaxConns)
	readTimeout := cmp.Or(s.ReadTimeout, defaultReadTimeout)
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o750); err != nil {
		return fmt.Errorf("control socket directory: %w", err)
	}
	if err := CheckSocketPath(s.Path); err != nil {
		return err
	}
	if c, err := net.DialTimeout("unix", s.Path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("control socket %s: another earshot daemon is listening", s.Path)
	}
	if err := os.Remove(s.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("control socket %s: remove the stale socket: %w", s.Path, err)
	}
	// Create the socket with no permissions for others from the first instant.
	old := umask(0o117)
	ln, err := net.Listen("unix", s.Path)
	umask(old)
	if err != nil {
		return fmt.Errorf("control socket %s: %w", s.Path, err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	if err := s.restrict(); err != nil {
		ln.Close()
		return err
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	slots := make(chan struct{}, maxConns)
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), maxAcceptBackoff)
			if backoff == 5*time.Millisecond {
				log.Warn("control socket: cannot accept; retrying", "err", err, "hint", acceptHint(err))
			}
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			continue
		}
		backoff = 0
		select {
		case slots <- struct{}{}:
		default:
			busy(conn, maxConns)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			s.serve(ctx, conn, readTimeout, log)
		}()
	}
}

// acceptHint says what an accept error means for the user.
func acceptHint(err error) string {
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		return "out of file descriptors: too many clients, or LimitNOFILE too low"
	}
	return "the socket keeps failing"
}

// busy answers a client over the bound without reading its request, so it
// costs the daemon its descriptor only for as long as one write takes.
func busy(conn net.Conn, maxConns int) {
	conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_ = json.NewEncoder(conn).Encode(Response{Error: fmt.Sprintf("daemon busy: %d clients are connected; try again", maxConns)})
	conn.Close()
}

func (s *Server) restrict() error {
	if err := os.Chmod(s.Path, 0o660); err != nil {
		return fmt.Errorf("control socket %s: %w", s.Path, err)
	}
	if s.Group == "" {
		return nil
	}
	g, err := user.LookupGroup(s.Group)
	if err != nil {
		return fmt.Errorf("control socket %s: group %q: %w", s.Path, s.Group, err)
	}
	gid, _ := strconv.Atoi(g.Gid)
	if err := os.Chown(s.Path, -1, gid); err != nil {
		return fmt.Errorf("control socket %s: chown to group %s: %w", s.Path, s.Group, err)
	}
	return nil
}

func (s *Server) serve(ctx context.Context, conn net.Conn, readTimeout time.Duration, log *slog.Logger) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	conn.SetDeadline(time.Now().Add(ioTimeout))
	conn.SetReadDeadline(time.Now().Add(readTimeout))
	var req Request
	resp := Response{}
	dec := json.NewDecoder(bufio.NewReader(&limitedReader{r: conn, n: maxRequest}))
	dec.DisallowUnknownFields()
	idle := false
	if err := dec.Decode(&req); errors.Is(err, os.ErrDeadlineExceeded) {
		resp.Error = fmt.Sprintf("no request within %s", readTimeout)
		idle = true
	} else if err != nil {
		resp.Error = "malformed request: " + err.Error()
	} else {
		result, err := s.dispatch(req)
		if err != nil {
			resp.Error = err.Error()
		} else if resp.Result, err = json.Marshal(result); err != nil {
			resp.Error = err.Error()
		} else {
			resp.OK = true
		}
	}
	switch {
	case idle:
		log.Debug("control client sent nothing; dropped", "after", readTimeout)
	case !resp.OK:
		log.Info("control request refused", "cmd", req.Cmd, "error", resp.Error)
	}
	if err := json.NewEncoder(conn).Encode(resp); err != nil {
		log.Debug("control reply not delivered", "err", err)
	}
}

func (s *Server) dispatch(req Request) (any, error) {
	switch req.Cmd {
	case CmdStatus:
		return s.Service.Status(), nil
	case CmdHistory:
		var since time.Time
		if req.Since != nil {
			since = *req.Since
		}
		return s.Service.History(since)
	case CmdAudio:
		if len(req.IDs) != 1 {
			return nil, errors.New("audio: want exactly one record id")
		}
		return s.Service.Audio(req.IDs[0])
	case CmdDelete:
		return s.Service.Delete(req)
	case CmdMute:
		return struct{}{}, s.Service.Mute("cli")
	case CmdUnmute:
		return struct{}{}, s.Service.Unmute("cli")
	}
	return nil, fmt.Errorf("unknown command %q", req.Cmd)
}

type limitedReader struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("request larger than %d bytes", maxRequest)
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}
