// Package intents parses the intents file (slots, intent templates and the
// built-in privacy intents) into a Grammar. A Grammar maps a recognised
// word sequence back to exactly one intent and its slot values; built-ins
// always win over user intents, and an invalid file is refused with its
// name, line and what was expected. For the recogniser, a Grammar renders
// itself as JSGF, or compiles its command language to a minimal word FSG
// (Commands, Compile) whose size depends on the language alone; Net
// composes it with weighted words and loops into the decoder's grammar.
package intents
