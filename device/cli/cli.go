// Package cli implements the earshot command line: the daemon entry point,
// the offline tools (purge, check-config, eval) and the client commands that
// review and delete voice history over the control socket.
//
// Exit codes are part of the contract: 0 ok, 1 usage or validation error,
// 2 daemon unreachable.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/earshot/earshot/device/config"
	"github.com/earshot/earshot/device/control"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitUsage       = 1
	ExitUnreachable = 2
)

// Env is what a command may touch of the process.
type Env struct {
	Stdout, Stderr io.Writer
	Version        string
	// Reload delivers SIGHUP to `earshot run`; nil when not wired.
	Reload <-chan os.Signal
	// IsTerminal says whether Stdout is a terminal (for colour and tables).
	IsTerminal bool
	// Journal says whether Stderr is systemd's journal (JOURNAL_STREAM):
	// logs then carry syslog priorities instead of times.
	Journal bool
}

type command struct {
	usage string
	help  string
	run   func(ctx context.Context, env *Env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"run":          {"run [--config F]", "run the daemon", runDaemon},
		"status":       {"status [--json]", "show mute, retention window, records, hub link", status},
		"history":      {"history [--json] [--since T]", "review the voice history kept on this device", history},
		"play":         {"play ID", "play a recording on the speaker", play},
		"export":       {"export ID -o F.wav", "write a recording as a WAV file", export},
		"delete":       {"delete ID… | --all | --before T | --since T", "delete voice history; prints the receipt", deleteCmd},
		"mute":         {"mute", "stop the microphone, as the button does", mute},
		"unmute":       {"unmute", "start the microphone again", unmute},
		"purge":        {"purge [--config F] [--json]", "enforce the retention window on the store without the daemon", purge},
		"check-config": {"check-config F", "validate a config and its intents file", checkConfig},
		"eval":         {"eval --config F --corpus DIR [--json] [--per-file] [--baseline-kws | --no-head] [--tune K=V,...] [--by COLUMN,...]", "measure wake and intent accuracy over a labelled corpus", evalCmd},
		"version":      {"version", "print version, speech engine and build tags", version},
		"wake-train":   {"wake-train [--phrase P] [-o F.head]", "train a wake-word head for a phrase from generated speech", wakeTrain},
	}
}

// Main runs one command line (without the program name) and returns the
// process exit code. Help asked for (--help, -h, help [COMMAND]) goes to
// stdout with exit 0; usage errors go to stderr with exit 1.
func Main(ctx context.Context, args []string, env *Env) int {
	cmds := commands()
	if len(args) == 0 {
		usage(env.Stderr, cmds)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		if len(args) > 1 {
			if _, ok := cmds[args[1]]; !ok {
				fmt.Fprintf(env.Stderr, "earshot help: unknown command %q\n", args[1])
				return ExitUsage
			}
			args = []string{args[1], "--help"}
			break
		}
		usage(env.Stdout, cmds)
		return ExitOK
	case "--version":
		args[0] = "version"
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "earshot: unknown command %q\n\n", args[0])
		usage(env.Stderr, cmds)
		return ExitUsage
	}
	err := cmd.run(ctx, env, args[1:])
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.Is(err, control.ErrDenied):
		fmt.Fprintf(env.Stderr, "earshot %s: %v\n", args[0], err)
		return ExitUnreachable
	case errors.Is(err, control.ErrUnreachable):
		fmt.Fprintf(env.Stderr, "earshot %s: %v\n(is the daemon running? `systemctl status earshot`)\n", args[0], err)
		return ExitUnreachable
	default:
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintf(env.Stderr, "earshot %s: %v\nusage: earshot %s\n", args[0], err, cmd.usage)
			return ExitUsage
		}
		fmt.Fprintf(env.Stderr, "earshot %s: %v\n", args[0], err)
		return ExitUsage
	}
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "earshot — an on-device voice assistant that forgets on schedule\n\nusage:")
	for _, n := range names {
		fmt.Fprintf(w, "  earshot %-44s %s\n", cmds[n].usage, cmds[n].help)
	}
	fmt.Fprintf(w, "\nEvery command takes --config F (default %s); `earshot help COMMAND` shows its flags.\n", config.DefaultPath)
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// flags is a flag set that also accepts flags after positional arguments
// (`earshot delete ID --config F`). It prints nothing itself: --help is
// answered on stdout, and a bad flag is reported once, by Main.
type flags struct {
	*flag.FlagSet
	config *string
	env    *Env
}

func newFlags(name string, env *Env) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flags{FlagSet: fs, config: fs.String("config", config.DefaultPath, "config file"), env: env}
}

// printHelp is a command's --help: its usage line, what it does, its flags.
func (f *flags) printHelp() {
	cmd := commands()[f.Name()]
	w := f.env.Stdout
	fmt.Fprintf(w, "usage: earshot %s\n\n%s\n\nflags:\n", cmd.usage, cmd.help)
	f.SetOutput(w)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
}

// parse returns the positional arguments.
func (f *flags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.printHelp()
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = f.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (f *flags) load() (*config.Config, error) {
	return config.Load(*f.config)
}

// client finds the daemon's socket through the config. When the default
// config is missing (a client-only machine, a user without access to /etc)
// the default socket is used; a config named with --config must load.
func (f *flags) client() (control.Client, error) {
	cfg, err := f.load()
	if err == nil {
		return control.Client{Path: cfg.Control.Socket}, nil
	}
	explicit := false
	f.Visit(func(fl *flag.Flag) { explicit = explicit || fl.Name == "config" })
	if explicit {
		return control.Client{}, err
	}
	return control.Client{Path: config.Default().Control.Socket}, nil
}
