package cli

import (
	"context"
	"io"
	"log/slog"
	"sync"
)

// newLogger is a command's logger on stderr. On a terminal or in a file it
// is slog's text handler. Under systemd (Env.Journal) the journal stamps
// each line itself and learns its priority from a syslog prefix, so lines
// go without time= and start with <3> for errors, <4> for warnings, <6> for
// information and <7> for debug: `journalctl -p warning -u earshot` then
// finds the errors and warnings.
func newLogger(env *Env, level slog.Leveler) *slog.Logger {
	if !env.Journal {
		return slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	}
	return slog.New(newJournalHandler(env.Stderr, level))
}

// journalHandler is slog's text handler with each record prefixed by its
// syslog priority. The text handler writes a record in one Write; the
// priority of the record being written is set under mu first.
type journalHandler struct {
	inner slog.Handler
	out   *priorityWriter
}

type priorityWriter struct {
	mu       sync.Mutex
	w        io.Writer
	priority byte // '3'..'7', for the record being written
	buf      []byte
}

func (p *priorityWriter) Write(b []byte) (int, error) {
	p.buf = append(append(p.buf[:0], '<', p.priority, '>'), b...)
	if _, err := p.w.Write(p.buf); err != nil {
		return 0, err
	}
	return len(b), nil
}

func newJournalHandler(w io.Writer, level slog.Leveler) *journalHandler {
	out := &priorityWriter{w: w}
	return &journalHandler{out: out, inner: slog.NewTextHandler(out, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{} // the journal has the time
			}
			return a
		},
	})}
}

// priority maps a level to syslog's: err, warning, info, debug.
func priority(l slog.Level) byte {
	switch {
	case l >= slog.LevelError:
		return '3'
	case l >= slog.LevelWarn:
		return '4'
	case l >= slog.LevelInfo:
		return '6'
	}
	return '7'
}

func (h *journalHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *journalHandler) Handle(ctx context.Context, r slog.Record) error {
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	h.out.priority = priority(r.Level)
	return h.inner.Handle(ctx, r)
}

func (h *journalHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &journalHandler{inner: h.inner.WithAttrs(attrs), out: h.out}
}

func (h *journalHandler) WithGroup(name string) slog.Handler {
	return &journalHandler{inner: h.inner.WithGroup(name), out: h.out}
}
