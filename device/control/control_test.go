package control

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/earshot/earshot/internal/syncbuf"
	"github.com/earshot/earshot/retention"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fakeService struct {
	mu     sync.Mutex
	muted  string
	delete []Request
}

func (f *fakeService) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Status{DeviceID: "den", Muted: f.muted != "", MuteSource: f.muted, Window: "24h", Records: 2}
}

func (f *fakeService) History(since time.Time) ([]HistoryEntry, error) {
	all := []HistoryEntry{
		{ID: "01A", Time: time.Unix(100, 0).UTC(), Intent: "LightsOn", Slots: map[string]string{"room": "kitchen"}, Transcript: "turn on the kitchen lights", Duration: 2 * time.Second},
		{ID: "01B", Time: time.Unix(200, 0).UTC(), Transcript: "sing a song", Duration: time.Second},
	}
	var out []HistoryEntry
	for _, e := range all {
		if !e.Time.Before(since) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeService) Audio(id string) (Audio, error) {
	if id != "01A" {
		return Audio{}, errors.New("record not found")
	}
	return Audio{ID: id, SampleRate: 16000, PCM: []byte{1, 0, 0xff, 0xff}}, nil
}

func (f *fakeService) Delete(req Request) (DeleteResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delete = append(f.delete, req)
	return DeleteResult{Receipts: []retention.Receipt{{ID: "R1", Scope: retention.ScopeAll, Records: 2}}}, nil
}

func (f *fakeService) Mute(source string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.muted = source
	return nil
}

func (f *fakeService) Unmute(source string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.muted == "button" && source != "button" && source != "cli" {
		return errors.New("muted at device")
	}
	f.muted = ""
	return nil
}

// startServer runs a server in a temp dir and returns a client for it.
func startServer(t *testing.T, svc Service) Client {
	t.Helper()
	return runServer(t, &Server{Path: filepath.Join(t.TempDir(), "run", "control.sock"), Service: svc})
}

// runServer runs srv until the test ends and returns a client for it.
func runServer(t *testing.T, srv *Server) Client {
	t.Helper()
	path := srv.Path
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	waitForSocket(t, path)
	return Client{Path: path}
}

func waitForSocket(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return
		}
		time.Sleep(5 * time.Millisecond) // polling for the listener, not synchronising results
	}
	t.Fatalf("socket %s never came up", path)
}

func TestRoundTrips(t *testing.T) {
	svc := &fakeService{}
	c := startServer(t, svc)
	ctx := context.Background()

	if err := c.Call(ctx, Request{Cmd: CmdMute}, nil); err != nil {
		t.Fatal(err)
	}
	var st Status
	if err := c.Call(ctx, Request{Cmd: CmdStatus}, &st); err != nil {
		t.Fatal(err)
	}
	if !st.Muted || st.MuteSource != "cli" || st.DeviceID != "den" {
		t.Errorf("status after mute = %+v", st)
	}
	if err := c.Call(ctx, Request{Cmd: CmdUnmute}, nil); err != nil {
		t.Fatal(err)
	}

	since := time.Unix(150, 0)
	var hist []HistoryEntry
	if err := c.Call(ctx, Request{Cmd: CmdHistory, Since: &since}, &hist); err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].ID != "01B" {
		t.Errorf("history since = %+v", hist)
	}

	var a Audio
	if err := c.Call(ctx, Request{Cmd: CmdAudio, IDs: []string{"01A"}}, &a); err != nil {
		t.Fatal(err)
	}
	if a.SampleRate != 16000 || len(a.PCM) != 4 || a.PCM[2] != 0xff {
		t.Errorf("audio = %+v", a)
	}
	err := c.Call(ctx, Request{Cmd: CmdAudio, IDs: []string{"nope"}}, &a)
	if err == nil || !strings.Contains(err.Error(), "record not found") {
		t.Errorf("audio of unknown id: %v", err)
	}

	var res DeleteResult
	if err := c.Call(ctx, Request{Cmd: CmdDelete, All: true}, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Receipts) != 1 || res.Receipts[0].Scope != retention.ScopeAll || len(svc.delete) != 1 || !svc.delete[0].All {
		t.Errorf("delete = %+v, service saw %+v", res, svc.delete)
	}
}

func TestRefusesBadRequests(t *testing.T) {
	c := startServer(t, &fakeService{})
	tests := []struct {
		req  Request
		want string
	}{
		{Request{Cmd: "reboot"}, `unknown command "reboot"`},
		{Request{Cmd: CmdAudio}, "exactly one record id"},
	}
	for _, tt := range tests {
		err := c.Call(context.Background(), tt.req, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) || errors.Is(err, ErrUnreachable) {
			t.Errorf("%+v: err = %v, want %q", tt.req, err, tt.want)
		}
	}
	// Raw garbage and unknown fields are answered, not dropped.
	for _, raw := range []string{"{nonsense\n", `{"cmd":"status","rm":"-rf"}` + "\n", strings.Repeat("x", maxRequest+10)} {
		conn, err := net.Dial("unix", c.Path)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte(raw))
		buf := make([]byte, 4096)
		n, _ := conn.Read(buf)
		conn.Close()
		if !strings.Contains(string(buf[:n]), `"ok":false`) || !strings.Contains(string(buf[:n]), "malformed request") {
			t.Errorf("reply to %.20q = %q", raw, buf[:n])
		}
	}
}

func TestSocketIsPrivate(t *testing.T) {
	c := startServer(t, &fakeService{})
	fi, err := os.Stat(c.Path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o660 {
		t.Errorf("socket mode = %v, want 0660", perm)
	}
}

func TestUnreachable(t *testing.T) {
	c := Client{Path: filepath.Join(t.TempDir(), "none.sock")}
	err := c.Call(context.Background(), Request{Cmd: CmdStatus}, nil)
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("err = %v, want ErrUnreachable", err)
	}
}

func TestStaleSocketReplacedLiveOneRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.sock")
	// A stale socket file, as a crash leaves it: nothing listens.
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&Server{Path: path, Service: &fakeService{}}).Run(ctx) }()
	waitForSocket(t, path)

	err = (&Server{Path: path, Service: &fakeService{}}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "another earshot daemon") {
		t.Errorf("second server: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("socket not removed on shutdown: %v", err)
	}
}

// control.socket pointed at an existing file used to delete it: the server
// removed whatever was at the path to make room. Only a stale socket may go.
func TestSocketPathThatIsNotASocketIsRefused(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "notes.txt")
	os.WriteFile(file, []byte("precious"), 0o600)
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o700)
	link := filepath.Join(dir, "link")
	os.Symlink(file, link)
	for _, tc := range []struct{ path, kind string }{{file, "a regular file"}, {sub, "a directory"}, {link, "a symbolic link"}} {
		err := (&Server{Path: tc.path, Service: &fakeService{}}).Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.kind+", not a socket") {
			t.Errorf("server at %s: %v, want a refusal naming it as %s", tc.path, err, tc.kind)
		}
		if err := CheckSocketPath(tc.path); err == nil || !strings.Contains(err.Error(), tc.kind) {
			t.Errorf("CheckSocketPath(%s) = %v", tc.path, err)
		}
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "precious" {
		t.Errorf("the file at control.socket: %q, %v", b, err)
	}
	if _, err := os.Stat(sub); err != nil {
		t.Errorf("the directory at control.socket: %v", err)
	}
	for _, ok := range []string{filepath.Join(dir, "absent.sock")} {
		if err := CheckSocketPath(ok); err != nil {
			t.Errorf("CheckSocketPath(%s) = %v", ok, err)
		}
	}
}

// Idle clients hold a connection each; unbounded, 200 of them took the
// daemon's file descriptors. At most MaxConns are served at once, the rest
// are told the daemon is busy, and an idle one is dropped after ReadTimeout.
func TestIdleClientsAreBoundedAndDropped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.sock")
	c := runServer(t, &Server{Path: path, Service: &fakeService{}, MaxConns: 4, ReadTimeout: 200 * time.Millisecond})

	var idle []net.Conn
	for range 10 {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	// Every idle connection ends: the ones over the bound at once with
	// "busy", the others when their read times out.
	busy := 0
	for _, c := range idle {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("idle connection not closed by the server: %v", err)
		}
		if strings.Contains(string(b), "busy") {
			busy++
		}
	}
	if busy < 6 {
		t.Errorf("%d of 10 idle clients told busy, want at least 6 (bound 4)", busy)
	}
	var st Status
	if err := c.Call(context.Background(), Request{Cmd: CmdStatus}, &st); err != nil || st.DeviceID != "den" {
		t.Errorf("status after the idle clients: %+v, %v", st, err)
	}
}

// A busy daemon's answer reaches a client that had not finished sending.
func TestClientReadsBusyAnswer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Write([]byte(`{"ok":false,"error":"busy: try again"}` + "\n"))
		c.Close()
	}()
	err = (Client{Path: path}).Call(context.Background(), Request{Cmd: CmdStatus, IDs: make([]string, 20000)}, nil)
	if err == nil || !strings.Contains(err.Error(), "busy") || errors.Is(err, ErrUnreachable) {
		t.Errorf("err = %v, want the busy answer", err)
	}
}

// Out of file descriptors, accept fails with EMFILE. That used to end Run,
// and with it the daemon. It is a passing state: wait, and serve again.
func TestAcceptSurvivesRunningOutOfDescriptors(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	var logs syncbuf.Buffer
	c := runServer(t, &Server{Path: filepath.Join(t.TempDir(), "c.sock"), Service: &fakeService{},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	path := c.Path

	ents, _ := os.ReadDir("/proc/self/fd")
	low := lim
	low.Cur = uint64(len(ents) + 16)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Skip(err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		}
	}
	defer restore()
	// Dial until this process has no descriptor left: the server's accept
	// (same process) has none either, while connections wait in its backlog.
	var conns []net.Conn
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
		conns = nil
	}
	defer closeAll()
	for range 64 {
		conn, err := net.Dial("unix", path)
		if err != nil {
			break
		}
		conns = append(conns, conn)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "out of file descriptors") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning about descriptors; log:\n%s", logs.String())
		}
		time.Sleep(5 * time.Millisecond) // polling the log
	}
	closeAll()
	restore()
	var st Status
	for {
		err := c.Call(context.Background(), Request{Cmd: CmdStatus}, &st)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never served again: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // polling for the server's backoff to end
	}
}
