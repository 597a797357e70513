// Package wakeword scores audio for a wake phrase with a small head on the
// speech embedding (audio/embedding): every 80 ms, the latest 16
// embeddings (about two seconds of audio) through two dense layers with
// layer normalisation and a sigmoid, openWakeWord's shape of model. A
// head is trained for any phrase from generated speech alone
// (audio/wakeword/train, `earshot wake-train`); the one for "hey jarvis"
// ships in the binary. Head files are versioned, bounded and checked
// when read; openWakeWord's own heads can be read too, for comparison.
package wakeword
