package intents

import "strings"

// Built-in privacy intents. They are always part of the grammar, act on
// the local store only, and win over any user intent that says the same.
const (
	// ForgetLast deletes the most recent recording.
	ForgetLast = "ForgetLast"
	// ForgetToday deletes everything recorded today.
	ForgetToday = "ForgetToday"
)

// builtins are the templates of the built-in intents, in priority order.
// ForgetToday comes first so "delete everything i said today" can never be
// read as the narrower ForgetLast.
var builtins = []struct {
	name      string
	templates []string
}{
	{ForgetToday, []string{
		"(delete | forget | erase) everything i (said | asked) today",
		"(delete | forget | erase) (everything | all) from today",
		"(delete | erase) today's (recordings | history)",
	}},
	{ForgetLast, []string{
		"(delete | forget | erase) what i just (said | asked)",
		"(delete | forget | erase) (that | the last (thing i said | recording))",
	}},
}

// IsBuiltin reports whether name is a built-in privacy intent, which the
// daemon handles on the device and never publishes to the hub.
func IsBuiltin(name string) bool {
	return name == ForgetLast || name == ForgetToday
}

// reservedName reports the built-in that name collides with, ignoring case
// (Hermes topics and Home Assistant ids are often compared lower-cased).
func reservedName(name string) (string, bool) {
	for _, b := range builtins {
		if strings.EqualFold(b.name, name) {
			return b.name, true
		}
	}
	return "", false
}
