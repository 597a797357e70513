package train

import (
	"math/rand/v2"
	"strings"
)

// example is one training clip to render: an utterance, perhaps with
// ordinary speech before it and a command after it.
type example struct {
	positive  bool // main is the wake phrase
	pre, post *Utterance
	main      Utterance
	gapBefore float64 // seconds between pre and main
	gapAfter  float64 // seconds between main and post
	effects   Effects
	// group says what the example is, for reports: wake, near, command,
	// speech, noise.
	group string
}

// Spec says what to generate for a phrase.
type Spec struct {
	Phrase string
	// Commands are sentences of the intents grammar: said after the wake
	// phrase, and without it (negatives).
	Commands []string
	// NearMisses are phrases that sound like the wake phrase and are not
	// it.
	NearMisses []string
	Voices     []Voice
	// Positives and Negatives are how many clips of each to render.
	Positives, Negatives int
	Seed                 uint64
}

// punctuations vary how TTS engines phrase the wake phrase.
var punctuations = []string{"", ".", ",", "!", "?", "..."}

// plan draws the examples of s.
func plan(s Spec) []example {
	rng := rand.New(rand.NewPCG(s.Seed, 0x5ea7))
	var out []example
	utter := func(text string) Utterance {
		return Utterance{Voice: pick(rng, s.Voices), Text: text, Stretch: 0.8 + 0.5*rng.Float64(), Pitch: 2*rng.Float64() - 1}
	}
	phrase := func() string {
		p := s.Phrase
		words := strings.Fields(p)
		if len(words) > 1 && rng.Float64() < 0.3 {
			// "hey, jarvis": a pause inside the phrase.
			p = words[0] + ", " + strings.Join(words[1:], " ")
		}
		return p + pick(rng, punctuations)
	}
	command := func() *Utterance {
		if len(s.Commands) == 0 {
			return nil
		}
		u := utter(pick(rng, s.Commands))
		return &u
	}
	for i := 0; i < s.Positives; i++ {
		e := example{positive: true, main: utter(phrase()), effects: randomEffects(rng), group: "wake"}
		if rng.Float64() < 0.5 {
			e.post, e.gapAfter = command(), 0.6*rng.Float64()
			if e.post != nil {
				e.post.Voice = e.main.Voice
			}
		}
		if rng.Float64() < 0.15 {
			u := utter(sentence(rng))
			u.Voice = e.main.Voice
			e.pre, e.gapBefore = &u, 0.3+rng.Float64()
		}
		out = append(out, e)
	}
	for i := 0; i < s.Negatives; i++ {
		e := example{effects: randomEffects(rng)}
		switch r := rng.Float64(); {
		case r < 0.4 && len(s.NearMisses) > 0:
			e.group, e.main = "near", utter(pick(rng, s.NearMisses)+pick(rng, punctuations))
			if rng.Float64() < 0.5 {
				e.post, e.gapAfter = command(), 0.6*rng.Float64()
			}
		case r < 0.55 && len(s.Commands) > 0:
			e.group, e.main = "command", *command()
		case r < 0.6:
			e.group = "noise"
			e.effects.Noise = pick(rng, noiseKinds)
			e.effects.Lead, e.effects.Trail = 1+2*rng.Float64(), 0
		default:
			text := sentence(rng)
			if rng.Float64() < 0.5 {
				text += " " + sentence(rng)
			}
			e.group, e.main = "speech", utter(text)
		}
		out = append(out, e)
	}
	return out
}
