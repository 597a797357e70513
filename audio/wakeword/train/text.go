package train

import (
	"math/rand/v2"
	"strings"
)

// Ordinary speech for negatives: what people say near a speaker that is
// not meant for it. Sentences are drawn from a bank and from a small
// generator, so that the head hears many words in many orders.
var sentenceBank = strings.Split("The weather has been lovely this week, and we might go walking on Saturday.|Could you pass me the salt and the pepper, please?|I left my keys on the table next to the front door.|The kitchen lights were flickering again last night.|My sister is coming over for dinner on Sunday.|We should really fix the fence before winter.|Did you remember to water the plants in the bedroom?|The bus was twenty minutes late this morning.|I can't believe how quickly the children are growing up.|Let's order pizza tonight, I'm too tired to cook.|The meeting has been moved to half past three.|There's a new bakery on the corner that sells amazing bread.|He turned the music down so the baby could sleep.|Put the timer on the oven, the cake needs forty minutes.|I was reading about volcanoes in Iceland yesterday.|Our neighbors just adopted a very loud puppy.|The living room needs a new coat of paint.|She said the train to the city was packed.|Remember to buy milk, eggs and some butter.|The football match went to extra time and then penalties.|I think the washing machine is making a strange noise.|Grandma's recipe uses far more garlic than you'd expect.|We watched an old film about pirates on Friday.|The garden looks beautiful after all that rain.|Honestly, I have no idea where the remote control went.|Turn left at the post office and the library is on your right.|The doctor said to rest for a few days.|They're building a new school near the river.|Can you help me carry these boxes upstairs?|My phone battery dies so fast these days.|The radio said there might be snow in the hills.|I switched banks last year and it was surprisingly easy.|Dinner will be ready in about ten minutes.|The cat keeps sleeping on my laptop keyboard.|We need to book the holiday before prices go up.|He plays jazz piano in a small band on weekends.|The printer is out of ink again.|I'd like a cup of tea with a little milk.|Please close the window, it's getting cold in here.|The lecture on ancient Rome was fascinating.|Set the table for six, my cousins are joining us.|Her new job starts on the first of the month.|I heard the lights on the bridge are being replaced.|The hospital car park is always full.|Let's play a board game after lunch.|Nobody told me the shop closes early on Mondays.|I'll call you back when I get home.|The soup needs a bit more salt, I think.|There were so many birds in the garden this morning.|I forgot to switch off the heating before we left.|What time does the pharmacy open tomorrow?|Okay, so the plan is to leave at seven.|Hey, have you seen my glasses anywhere?|Hello, is anybody home?|Wait, I think I hear someone at the door.|Alright, let's get started then.|Hi there, how was your day?|Yes, that sounds perfect to me.|No, I don't think that's a good idea.|Could you say that again, please?", "|")

var (
	dets   = strings.Fields("the my our that every their a this")
	adjs   = strings.Fields("old bright quiet small heavy yellow friendly broken new lazy careful noisy famous empty")
	nouns  = strings.Fields("neighbor teacher dog bicycle window farmer kettle painter garden engine river student blanket market letter doctor computer mirror office camera")
	verbs  = strings.Fields("painted found carried followed cleaned watched repaired visited borrowed described opened ordered")
	whens  = strings.Split("yesterday|last winter|on Tuesday|after breakfast|this afternoon|every weekend|before the storm|at midnight|an hour ago", "|")
	starts = strings.Split("Have you seen|Where did you put|Did anyone move|Who borrowed|Why is|Can you find|Do you like", "|")
	places = strings.Split("in the hallway|near the station|behind the shed|at the office|by the sea|in the attic|on the table", "|")
)

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

// sentence returns one sentence of ordinary speech.
func sentence(rng *rand.Rand) string {
	switch r := rng.Float64(); {
	case r < 0.5:
		return pick(rng, sentenceBank)
	case r < 0.75:
		return pick(rng, dets) + " " + pick(rng, adjs) + " " + pick(rng, nouns) + " " + pick(rng, verbs) + " " +
			pick(rng, dets) + " " + pick(rng, nouns) + " " + pick(rng, whens) + "."
	default:
		return pick(rng, starts) + " " + pick(rng, dets) + " " + pick(rng, adjs) + " " + pick(rng, nouns) + " " + pick(rng, places) + "?"
	}
}
