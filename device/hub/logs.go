package hub

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// RouteLogs sends paho's internal logs to logger with component=paho:
// paho's CRITICAL at Error, ERROR and WARN at Warn, DEBUG at Debug. paho
// logs each failed connection attempt at ERROR and then retries; the link
// logs what needs someone to act. paho's loggers are package globals, so
// the daemon calls this once, before any Link runs; it is not safe to call
// while a client is active.
func RouteLogs(logger *slog.Logger) {
	l := logger.With("component", "paho")
	mqtt.CRITICAL = pahoLogger{l, slog.LevelError}
	mqtt.ERROR = pahoLogger{l, slog.LevelWarn}
	mqtt.WARN = pahoLogger{l, slog.LevelWarn}
	mqtt.DEBUG = pahoLogger{l, slog.LevelDebug}
}

type pahoLogger struct {
	log   *slog.Logger
	level slog.Level
}

func (p pahoLogger) Println(v ...any) {
	if p.log.Enabled(context.Background(), p.level) {
		p.log.Log(context.Background(), p.level, strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
	}
}

func (p pahoLogger) Printf(format string, v ...any) {
	if p.log.Enabled(context.Background(), p.level) {
		p.log.Log(context.Background(), p.level, fmt.Sprintf(format, v...))
	}
}
