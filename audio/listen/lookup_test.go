package listen

import (
	"strings"
	"testing"

	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/sphinx"
)

// A wake phrase the dictionary lacks is named where it is set, the config
// file and line, not the intents file.
func TestUnknownWakeWordNamesTheConfig(t *testing.T) {
	if !sphinx.Available {
		t.Skip("built without PocketSphinx")
	}
	g, err := intents.Parse([]byte("intents:\n  LightsOn: [\"turn on the lights\"]\n"), "/etc/earshot/intents.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(Config{WakePhrase: "hey jarvisx", WakeSource: "/etc/earshot/earshot.yaml:12: wake.phrase", Grammar: g})
	if err == nil || !strings.Contains(err.Error(), `"jarvisx" (/etc/earshot/earshot.yaml:12: wake.phrase)`) || strings.Contains(err.Error(), "intents.yaml") {
		t.Errorf("error %v: want the wake word named at its config line", err)
	}
}
