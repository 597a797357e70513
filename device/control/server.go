package control

import (
	"bufio"
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
}

// ioTimeout bounds how long one client may hold a connection.
const ioTimeout = 30 * time.Second

// Run listens until ctx ends. A stale socket file left by a crash is
// replaced; a socket another live daemon answers on is an error.
func (s *Server) Run(ctx context.Context) error {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o750); err != nil {
		return fmt.Errorf("control socket directory: %w", err)
	}
	if c, err := net.DialTimeout("unix", s.Path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("control socket %s: another earshot daemon is listening", s.Path)
	}
	_ = os.Remove(s.Path)
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
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		conn, err := ln.Accept()
		if err != nil {
			wg.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("control socket %s: %w", s.Path, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serve(ctx, conn, log)
		}()
	}
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

func (s *Server) serve(ctx context.Context, conn net.Conn, log *slog.Logger) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	conn.SetDeadline(time.Now().Add(ioTimeout))
	var req Request
	resp := Response{}
	dec := json.NewDecoder(bufio.NewReader(&limitedReader{r: conn, n: maxRequest}))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
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
	if !resp.OK {
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
