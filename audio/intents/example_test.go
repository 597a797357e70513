package intents_test

import (
	"fmt"
	"log"

	"github.com/earshot/earshot/audio/intents"
)

// A listener's verification grammar: garbage phones before the wake
// phrase, the wake words against sound-alikes (and "hey" left out at a
// high price), then a command, possibly after some garbage, or garbage
// alone.
func ExampleCompile() {
	g, err := intents.Load("../../configs/intents.yaml")
	if err != nil {
		log.Fatal(err)
	}
	var phones []intents.Net
	for _, p := range []string{"gbg_aa", "gbg_s", "gbg_t"} {
		phones = append(phones, intents.Word(p, 1e-4))
	}
	garbage := intents.Repeat(intents.Alt(phones...))
	wake := intents.Seq(
		intents.Alt(intents.Word("hey", 1), intents.Word("say", 1e-7), intents.Empty(1e-14)),
		intents.Alt(intents.Word("jarvis", 1), intents.Word("marvin", 1e-7)))
	verify := intents.Alt(
		intents.Seq(intents.Optional(garbage), wake, intents.Alt(intents.Seq(intents.Optional(garbage), g.Commands()), garbage)),
		garbage)
	fsg, err := intents.Compile(verify)
	if err != nil {
		log.Fatal(err)
	}
	cmd, err := g.CommandFSG()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("commands %+v\nverify   %+v\n", cmd.Size(), fsg.Size())
	fmt.Println(fsg.Accepts("gbg_s hey jarvis gbg_t turn on the kitchen lights"), fsg.Accepts("hey jarvis turn on the kitchen"))
	// Output:
	// commands {States:38 Transitions:90 Words:48}
	// verify   {States:42 Transitions:123 Words:55}
	// true false
}
