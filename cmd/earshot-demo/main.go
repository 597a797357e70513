// Command earshot-demo shows in one run what earshot is for: it speaks a few
// commands to the real daemon, with an embedded MQTT broker standing in for
// the home hub, and prints what the hub received next to what the device
// keeps; then the retention window expires a record and a hub delete wipes
// the rest, each with its receipt. `make demo` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	bin := flag.String("earshot", "bin/earshot", "the earshot binary to run")
	intents := flag.String("intents", "configs/intents.yaml", "intents file")
	keep := flag.Bool("keep", false, "keep the demo's temporary directory")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fi, _ := os.Stdout.Stat()
	d := &demo{
		earshot: *bin,
		intents: *intents,
		keep:    *keep,
		out:     os.Stdout,
		color:   fi != nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("NO_COLOR") == "",
	}
	if err := d.run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
