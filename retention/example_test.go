package retention_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/earshot/earshot/retention"
)

// The daemon's wiring: open the store, run the window enforcer, store an
// utterance, list it, delete it and publish the receipt.
func Example() {
	dir, _ := os.MkdirTemp("", "earshot-example-")
	defer os.RemoveAll(dir)

	store, err := retention.Open(dir, retention.Options{
		Window:    24 * time.Hour,
		MaxBytes:  256 << 20,
		Keys:      retention.KeysDisk,
		OnReceipt: func(r retention.Receipt) { /* publish window/size receipts to the hub */ },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go store.Run(ctx)

	pcm := make([]int16, 16000) // one second of 16 kHz audio
	rec, err := store.Append(retention.Record{
		Transcript: "turn on the kitchen lights",
		Intent:     "LightsOn",
		Slots:      map[string]string{"room": "kitchen"},
	}, pcm)
	if err != nil {
		log.Fatal(err)
	}
	history, _ := store.List(retention.Filter{Limit: 10})
	fmt.Println(len(history), history[0].Intent, history[0].Slots["room"], history[0].Duration)

	receipt, err := store.Delete(rec.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(receipt.Scope, receipt.Records, store.Stats().Records)
	// Output:
	// 1 LightsOn kitchen 1s
	// record 1 0
}
