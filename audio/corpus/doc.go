// Package corpus holds gen.sh, which synthesises the labelled test-speech
// corpus (wake utterances with their expected intent and slots, and
// ordinary speech without the wake phrase), and the inputs it reads. The
// Go code here only tests that those inputs agree with the intents
// grammar and that a generated corpus has the promised shape.
package corpus
