// Package intents parses the intents file (slots, intent templates and the
// built-in privacy intents) into a Grammar. A Grammar renders itself as JSGF
// for the recogniser and maps a recognised word sequence back to exactly one
// intent and its slot values; built-ins always win over user intents, and an
// invalid file is refused with its name, line and what was expected.
package intents
