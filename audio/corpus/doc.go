// Package corpus holds gen.sh, which synthesises the labelled test-speech
// corpus (wake utterances with their expected intent and slots, and
// ordinary speech without the wake phrase), and the inputs it reads, plus
// coffee.yaml, the grammar of the recorded coffee orders (Picovoice's
// coffee_maker context converted one to one). The Go code here only tests
// that those inputs agree with the intents grammar, with the recorded
// labels, and that a generated corpus has the promised shape.
package corpus
