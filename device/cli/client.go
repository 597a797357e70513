package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/earshot/earshot/device/config"
	"github.com/earshot/earshot/device/control"
	"github.com/earshot/earshot/retention"
)

func status(ctx context.Context, env *Env, args []string) error {
	f := newFlags("status", env)
	asJSON := f.Bool("json", false, "print JSON")
	if err := noArgs(f, args); err != nil {
		return err
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	var st control.Status
	if err := c.Call(ctx, control.Request{Cmd: control.CmdStatus}, &st); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, st)
	}
	mute := "no (listening)"
	if st.Muted {
		mute = "yes, by " + st.MuteSource + " (microphone stopped)"
	} else if !st.Listening {
		mute = "no (microphone not running)"
	}
	oldest := "-"
	if st.Oldest != nil {
		oldest = fmt.Sprintf("%s (%s ago)", st.Oldest.Local().Format(time.DateTime), roundAge(time.Since(*st.Oldest)))
	}
	window := st.Window
	if st.Window != st.Ceiling {
		window += " (shortened from " + st.Ceiling + ")"
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "device\t%s\n", st.DeviceID)
	fmt.Fprintf(tw, "muted\t%s\n", mute)
	fmt.Fprintf(tw, "window\t%s\n", window)
	fmt.Fprintf(tw, "records\t%d\n", st.Records)
	fmt.Fprintf(tw, "oldest\t%s\n", oldest)
	fmt.Fprintf(tw, "bytes\t%s\n", humanBytes(st.Bytes))
	fmt.Fprintf(tw, "hub link\t%s\n", st.Hub)
	fmt.Fprintf(tw, "frames read\t%d\n", st.FramesRead)
	return tw.Flush()
}

func history(ctx context.Context, env *Env, args []string) error {
	f := newFlags("history", env)
	asJSON := f.Bool("json", false, "print JSON")
	sinceFlag := f.String("since", "", "only records since T (RFC 3339, a date, \"today\", or an age like 2h)")
	if err := noArgs(f, args); err != nil {
		return err
	}
	req := control.Request{Cmd: control.CmdHistory}
	if *sinceFlag != "" {
		t, err := parseTime(*sinceFlag, time.Now())
		if err != nil {
			return usagef("--since: %v", err)
		}
		req.Since = &t
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	var entries []control.HistoryEntry
	if err := c.Call(ctx, req, &entries); err != nil {
		return err
	}
	if *asJSON {
		if entries == nil {
			entries = []control.HistoryEntry{}
		}
		return printJSON(env.Stdout, entries)
	}
	return printHistory(env.Stdout, entries)
}

// printHistory is the voice-history review: one line a record, oldest first.
func printHistory(w io.Writer, entries []control.HistoryEntry) error {
	if len(entries) == 0 {
		_, err := fmt.Fprintln(w, "no voice history is kept on this device right now")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tINTENT\tSLOTS\tDURATION\tTRANSCRIPT")
	for _, e := range entries {
		intent := e.Intent
		if intent == "" {
			intent = "(not understood)"
		}
		transcript := strconv.Quote(e.Transcript)
		if e.Transcript == "" {
			transcript = "(no words outside the grammar are transcribed)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1fs\t%s\n", e.ID, e.Time.Local().Format(time.DateTime),
			intent, formatSlots(e.Slots), e.Duration.Seconds(), transcript)
	}
	return tw.Flush()
}

func formatSlots(slots map[string]string) string {
	if len(slots) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(slots))
	for k := range slots {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + slots[k]
	}
	return strings.Join(parts, ",")
}

func deleteCmd(ctx context.Context, env *Env, args []string) error {
	f := newFlags("delete", env)
	all := f.Bool("all", false, "delete the whole voice history")
	before := f.String("before", "", "delete records stored before T")
	since := f.String("since", "", "delete records stored since T")
	asJSON := f.Bool("json", false, "print the receipts as JSON")
	ids, err := f.parse(args)
	if err != nil {
		return err
	}
	req := control.Request{Cmd: control.CmdDelete, IDs: ids, All: *all}
	chosen := 0
	for _, set := range []bool{len(ids) > 0, *all, *before != "", *since != ""} {
		if set {
			chosen++
		}
	}
	if chosen != 1 {
		return usagef("name record ids, or exactly one of --all, --before, --since")
	}
	now := time.Now()
	for _, tf := range []struct {
		val string
		dst **time.Time
		nm  string
	}{{*before, &req.Before, "--before"}, {*since, &req.Since, "--since"}} {
		if tf.val == "" {
			continue
		}
		t, err := parseTime(tf.val, now)
		if err != nil {
			return usagef("%s: %v", tf.nm, err)
		}
		*tf.dst = &t
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	var res control.DeleteResult
	if err := c.Call(ctx, req, &res); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, res.Receipts)
	}
	for _, r := range res.Receipts {
		printReceipt(env.Stdout, r)
	}
	return nil
}

func printReceipt(w io.Writer, r retention.Receipt) {
	span := ""
	if r.Oldest != nil && r.Newest != nil {
		span = fmt.Sprintf(", stored %s to %s", r.Oldest.Local().Format(time.DateTime), r.Newest.Local().Format(time.DateTime))
	}
	fmt.Fprintf(w, "deleted %d record(s), %s (scope %s%s); receipt %s at %s\n",
		r.Records, humanBytes(r.Bytes), r.Scope, span, r.ID, r.Time.Local().Format(time.DateTime))
}

func mute(ctx context.Context, env *Env, args []string) error {
	return simple(ctx, env, "mute", control.CmdMute, args, "muted: the microphone is stopped")
}

func unmute(ctx context.Context, env *Env, args []string) error {
	return simple(ctx, env, "unmute", control.CmdUnmute, args, "unmuted: listening for the wake word")
}

func simple(ctx context.Context, env *Env, name, cmd string, args []string, ok string) error {
	f := newFlags(name, env)
	if err := noArgs(f, args); err != nil {
		return err
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	if err := c.Call(ctx, control.Request{Cmd: cmd}, nil); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, ok)
	return nil
}

// fetchAudio asks the daemon for one recording.
func fetchAudio(ctx context.Context, f *flags, id string) (control.Audio, error) {
	c, err := f.client()
	if err != nil {
		return control.Audio{}, err
	}
	var a control.Audio
	err = c.Call(ctx, control.Request{Cmd: control.CmdAudio, IDs: []string{id}}, &a)
	return a, err
}

func noArgs(f *flags, args []string) error {
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// parseTime reads a point in time as a user would type it: RFC 3339, a
// local date or date-time, "today", "now", or an age ("2h", "3d") meaning
// that long before now.
func parseTime(s string, now time.Time) (time.Time, error) {
	switch s {
	case "now":
		return now, nil
	case "today":
		y, m, d := now.Local().Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.Local), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{time.DateTime, "2006-01-02T15:04:05", "2006-01-02 15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	if d, err := config.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("want RFC 3339 (2026-11-27T08:00:00Z), a date (2026-11-27), \"today\" or an age (2h, 3d); got %q", s)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func roundAge(d time.Duration) time.Duration {
	switch {
	case d > time.Hour:
		return d.Round(time.Minute)
	case d > time.Minute:
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}
