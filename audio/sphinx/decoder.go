//go:build cgo && !nopocketsphinx

package sphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#include <stdlib.h>
#include <malloc.h>
#include <pocketsphinx.h>
#include <sphinxbase/jsgf.h>

// earshot_one_arena keeps the decoder's C heap in one malloc arena. cgo
// calls run on whichever OS thread the goroutine is on, and glibc gives
// each new thread its own arena, where freed search memory stays
// resident: on the evaluation corpus that was 10 MB of the peak RSS. It
// runs as the program loads, before any thread has made an arena.
__attribute__((constructor)) static void earshot_one_arena(void) {
#ifdef M_ARENA_MAX
	mallopt(M_ARENA_MAX, 1);
#endif
}

// earshot_config parses argv into a fresh PocketSphinx configuration; cgo
// cannot call the variadic cmd_ln_init directly.
static cmd_ln_t *earshot_config(int argc, char **argv) {
	return cmd_ln_parse_r(NULL, ps_args(), argc, argv, TRUE);
}

// earshot_cmn_save copies the decoder's cepstral mean (NULL if it has none).
static mfcc_t *earshot_cmn_save(ps_decoder_t *ps) {
	feat_t *f = ps_get_feat(ps);
	if (f == NULL || f->cmn_struct == NULL) return NULL;
	mfcc_t *v = calloc(f->cmn_struct->veclen, sizeof(mfcc_t));
	if (v != NULL) cmn_live_get(f->cmn_struct, v);
	return v;
}

// earshot_track runs only the front end over pcm, so its noise estimate
// follows audio the decoder does not decode, and folds each frame's
// cepstrum into mean, a running mean that forgets at the rate decay per
// frame. Outside an utterance: starting one resets the front end's
// buffers but not its noise estimate.
static int earshot_track(ps_decoder_t *ps, int16 const *pcm, size_t n, mfcc_t *mean, float decay) {
	fe_t *fe = ps_get_fe(ps);
	int len = fe == NULL ? 0 : fe_get_output_size(fe);
	if (len == 0 || len > 64) return -1;
	mfcc_t rows[8][64];
	mfcc_t *cep[8];
	for (int i = 0; i < 8; i++) cep[i] = rows[i];
	while (n > 0) {
		int32 nfr = 8;
		if (fe_process_frames(fe, &pcm, &n, cep, &nfr, NULL) < 0) return -1;
		if (nfr == 0) break;
		for (int f = 0; mean != NULL && f < nfr; f++) {
			for (int i = 0; i < len; i++) mean[i] = mean[i] * decay + cep[f][i] * (1 - decay);
		}
	}
	return 0;
}

// earshot_set_jsgf adds (or replaces) the grammar search name compiled
// from JSGF text, with toprule ("grammar.rule") or else the first public
// rule as its top rule. It does what ps_set_jsgf_string does, but frees
// the parsed grammar, which ps_set_jsgf_string leaks (27 kB per call for
// earshot's grammar). -1: the JSGF is rejected, -2: no such rule, -3:
// the search is.
static int earshot_set_jsgf(ps_decoder_t *ps, char const *name, char const *text, char const *toprule) {
	jsgf_t *jsgf = jsgf_parse_string(text, NULL);
	if (jsgf == NULL) return -1;
	jsgf_rule_t *rule;
	if (toprule != NULL) {
		rule = jsgf_get_rule(jsgf, toprule);
	} else {
		rule = jsgf_get_public_rule(jsgf);
	}
	if (rule == NULL) {
		jsgf_grammar_free(jsgf);
		return -2;
	}
	fsg_model_t *fsg = jsgf_build_fsg(jsgf, rule, ps_get_logmath(ps), cmd_ln_float32_r(ps_get_config(ps), "-lw"));
	jsgf_grammar_free(jsgf);
	if (fsg == NULL) return -1;
	int r = ps_set_fsg(ps, name, fsg);
	fsg_model_free(fsg); // the search holds its own reference
	return r < 0 ? -3 : 0;
}

static void earshot_cmn_restore(ps_decoder_t *ps, mfcc_t const *v) {
	feat_t *f = ps_get_feat(ps);
	if (v != NULL && f != NULL && f->cmn_struct != NULL) cmn_live_set(f->cmn_struct, v);
}
*/
import "C"

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"unsafe"
)

// TrimHeap returns the C heap's free pages to the system. A grammar search
// over a long utterance leaves megabytes of freed history behind, and
// without trimming the heap's resident size creeps up to the largest
// mix of them seen.
func TrimHeap() { C.malloc_trim(0) }

// Available reports whether this build can decode speech.
const Available = true

// Decoder is one PocketSphinx decoder. It is not safe for concurrent use.
type Decoder struct {
	ps      *C.ps_decoder_t
	cfg     *C.cmd_ln_t
	model   string
	inUtt   bool
	current string
	cmn     *C.mfcc_t // cepstral mean right after init, for ResetCMN
	tracked *C.mfcc_t // running cepstral mean of what Track saw
	// at maps each frame the search decoded in this utterance to the
	// frame of the audio given to Process it came from; fed counts
	// the samples given. PocketSphinx's own VAD (-remove_silence, on
	// by default) leaves the silence between words out of the search,
	// so a segment's frames are not the audio's.
	at  []int32
	fed int
}

// New creates a decoder with the acoustic model from cfg.ModelDir and the
// pronunciations in cfg.Words. It has no search until one is added.
func New(cfg Config) (*Decoder, error) {
	model := cfg.ModelDir
	if model == "" {
		model = DefaultModelDir
	}
	args := []string{
		"earshot",
		"-hmm", filepath.Join(model, "en-us"),
		// The decoder starts with an empty dictionary; words are added
		// one by one below so only what the grammar needs is in memory.
		"-dict", "/dev/null",
		"-logfn", "/dev/null",
		"-samprate", "16000",
	}
	args = append(args, cfg.Extra...)
	argv := make([]*C.char, len(args))
	for i, a := range args {
		argv[i] = C.CString(a)
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	c := C.earshot_config(C.int(len(argv)), &argv[0])
	if c == nil {
		return nil, fmt.Errorf("sphinx: invalid decoder arguments %q", args[1:])
	}
	ps := C.ps_init(c)
	if ps == nil {
		C.cmd_ln_free_r(c)
		return nil, fmt.Errorf("sphinx: cannot load acoustic model from %s", filepath.Join(model, "en-us"))
	}
	d := &Decoder{ps: ps, cfg: c, model: model, cmn: C.earshot_cmn_save(ps), tracked: C.earshot_cmn_save(ps)}
	if err := d.AddWords(cfg.Words); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// AddWords adds pronunciations; words the decoder already knows are kept
// as they are. Searches added afterwards can use the new words.
func (d *Decoder) AddWords(words map[string][]string) error {
	if err := d.live(); err != nil {
		return err
	}
	names := make([]string, 0, len(words))
	for w := range words {
		names = append(names, w)
	}
	sort.Strings(names)
	for _, w := range names {
		if d.known(w) {
			continue
		}
		for i, phones := range words[w] {
			name := w
			if i > 0 {
				name = fmt.Sprintf("%s(%d)", w, i+1)
			}
			if err := d.addWord(name, phones); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *Decoder) known(word string) bool {
	cw := C.CString(word)
	defer C.free(unsafe.Pointer(cw))
	p := C.ps_lookup_word(d.ps, cw)
	if p == nil {
		return false
	}
	C.free(unsafe.Pointer(p))
	return true
}

func (d *Decoder) addWord(word, phones string) error {
	cw, cp := C.CString(word), C.CString(strings.ToUpper(phones))
	defer C.free(unsafe.Pointer(cw))
	defer C.free(unsafe.Pointer(cp))
	if C.ps_add_word(d.ps, cw, cp, 0) < 0 {
		return fmt.Errorf("sphinx: add word %q with phones %q: rejected by the acoustic model", word, phones)
	}
	return nil
}

// Close frees the decoder. It is idempotent.
func (d *Decoder) Close() error {
	if d.ps == nil {
		return nil
	}
	if d.inUtt {
		C.ps_end_utt(d.ps)
	}
	C.ps_free(d.ps)
	C.cmd_ln_free_r(d.cfg)
	C.free(unsafe.Pointer(d.cmn))
	C.free(unsafe.Pointer(d.tracked))
	d.ps, d.cfg, d.cmn, d.tracked = nil, nil, nil, nil
	return nil
}

func (d *Decoder) live() error {
	if d.ps == nil {
		return fmt.Errorf("sphinx: decoder closed")
	}
	return nil
}

// SetKeyphrase adds (or replaces) a keyword-spotting search for phrase.
// threshold is the detection threshold as a probability (1e-50 spots
// almost anything, 1e-5 almost nothing).
func (d *Decoder) SetKeyphrase(name, phrase string, threshold float64) error {
	if err := d.live(); err != nil {
		return err
	}
	key := C.CString("-kws_threshold")
	defer C.free(unsafe.Pointer(key))
	// kws_search reads its threshold from the configuration when created.
	C.cmd_ln_set_float_r(d.cfg, key, C.double(threshold))
	cn, cp := C.CString(name), C.CString(strings.ToLower(phrase))
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cp))
	if err := d.replacing(name); err != nil {
		return err
	}
	if C.ps_set_keyphrase(d.ps, cn, cp) < 0 {
		return fmt.Errorf("sphinx: keyphrase search %q for %q rejected", name, phrase)
	}
	return d.replaced(name, cn)
}

// SetJSGF adds (or replaces) a grammar search compiled from JSGF text.
// rule names the top rule, qualified by the grammar name
// ("earshot.command"); empty means the first public rule.
func (d *Decoder) SetJSGF(name, jsgf, rule string) error {
	if err := d.live(); err != nil {
		return err
	}
	var cr *C.char
	if rule != "" {
		cr = C.CString(rule)
		defer C.free(unsafe.Pointer(cr))
	}
	cn, cj := C.CString(name), C.CString(jsgf)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cj))
	if err := d.replacing(name); err != nil {
		return err
	}
	switch C.earshot_set_jsgf(d.ps, cn, cj, cr) {
	case 0:
	case -2:
		return fmt.Errorf("sphinx: grammar search %q: no rule <%s> in the JSGF", name, rule)
	case -3:
		return fmt.Errorf("sphinx: grammar search %q: rejected by the decoder", name)
	default:
		return fmt.Errorf("sphinx: grammar search %q: JSGF rejected by the decoder", name)
	}
	return d.replaced(name, cn)
}

// UnsetSearch removes the named search and frees what it holds (for a
// grammar, its lexical tree, often megabytes): for a search that is used
// only now and then. It may not be the active search.
func (d *Decoder) UnsetSearch(name string) error {
	if err := d.live(); err != nil {
		return err
	}
	if d.current == name {
		return fmt.Errorf("sphinx: search %q is active", name)
	}
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	if C.ps_unset_search(d.ps, cn) < 0 {
		return fmt.Errorf("sphinx: no search named %q", name)
	}
	return nil
}

// replacing ends the utterance of the active search before it is
// replaced: its state is freed with it.
func (d *Decoder) replacing(name string) error {
	if d.current == name && d.inUtt {
		return d.EndUtt()
	}
	return nil
}

// replaced makes a replacement of the active search active. PocketSphinx
// frees the search it replaces but keeps decoding with a pointer to it.
func (d *Decoder) replaced(name string, cn *C.char) error {
	if d.current != name {
		return nil
	}
	if C.ps_set_search(d.ps, cn) < 0 {
		d.current = ""
		return fmt.Errorf("sphinx: search %q replaced but not active", name)
	}
	return nil
}

// SetAllphone adds a phone-loop search using the model's phone language
// model; its score is the reference a grammar hypothesis is compared to.
func (d *Decoder) SetAllphone(name string) error {
	if err := d.live(); err != nil {
		return err
	}
	path := filepath.Join(d.model, "en-us-phone.lm.bin")
	cn, cp := C.CString(name), C.CString(path)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cp))
	if C.ps_set_allphone_file(d.ps, cn, cp) < 0 {
		return fmt.Errorf("sphinx: phone-loop search from %s rejected", path)
	}
	return nil
}

// SetSearch makes the named search active. It ends a running utterance.
func (d *Decoder) SetSearch(name string) error {
	if err := d.live(); err != nil {
		return err
	}
	if d.current == name {
		return nil
	}
	if d.inUtt {
		if err := d.EndUtt(); err != nil {
			return err
		}
	}
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	if C.ps_set_search(d.ps, cn) < 0 {
		return fmt.Errorf("sphinx: no search named %q", name)
	}
	d.current = name
	return nil
}

// StartUtt begins an utterance in the active search.
func (d *Decoder) StartUtt() error {
	if err := d.live(); err != nil {
		return err
	}
	if d.inUtt {
		return nil
	}
	if C.ps_start_utt(d.ps) < 0 {
		return fmt.Errorf("sphinx: start utterance in search %q failed", d.current)
	}
	d.inUtt = true
	d.at, d.fed = d.at[:0], 0
	return nil
}

// ResetCMN returns the cepstral mean normalisation, and the mean Track
// keeps, to the model's initial estimate, forgetting the channel (room,
// microphone, speaker) they adapted to. Use it when the audio that
// follows is unrelated to the past.
func (d *Decoder) ResetCMN() {
	if d.ps != nil {
		C.earshot_cmn_restore(d.ps, d.cmn)
		d.copyMean(d.tracked, d.cmn)
	}
}

// Track runs the front end alone over pcm, between utterances, so the
// decoder follows audio that another decoder is decoding. Its noise
// estimate (which, unlike the cepstral mean, carries over from one
// utterance to the next) adapts to that audio, and it keeps a running
// cepstral mean of it for UseTrackedMean. It costs the feature
// extraction only, a few per cent of decoding.
func (d *Decoder) Track(pcm []int16) error {
	if err := d.live(); err != nil {
		return err
	}
	if d.inUtt {
		return fmt.Errorf("sphinx: Track during an utterance")
	}
	if len(pcm) == 0 {
		return nil
	}
	if C.earshot_track(d.ps, (*C.int16)(unsafe.Pointer(&pcm[0])), C.size_t(len(pcm)), d.tracked, C.float(1-1.0/TrackedFrames)) < 0 {
		return fmt.Errorf("sphinx: front end rejected %d samples", len(pcm))
	}
	return nil
}

// UseTrackedMean sets the cepstral mean normalisation to the running
// mean of the audio Track saw last. PocketSphinx's own live estimate
// weighs its past as 500 frames, so over the first seconds of a new
// channel it is mostly the model's initial estimate.
func (d *Decoder) UseTrackedMean() {
	if d.ps != nil {
		C.earshot_cmn_restore(d.ps, d.tracked)
	}
}

// copyMean copies a cepstral mean saved by earshot_cmn_save.
func (d *Decoder) copyMean(dst, src *C.mfcc_t) {
	if dst == nil || src == nil {
		return
	}
	feat := C.ps_get_feat(d.ps)
	if feat == nil || feat.cmn_struct == nil {
		return
	}
	n := int(feat.cmn_struct.veclen)
	copy(unsafe.Slice((*C.mfcc_t)(dst), n), unsafe.Slice((*C.mfcc_t)(src), n))
}

// cepstralMean returns the decoder's current cepstral mean, for tests.
func (d *Decoder) cepstralMean() []float64 {
	v := C.earshot_cmn_save(d.ps)
	if v == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(v))
	n := int(C.ps_get_feat(d.ps).cmn_struct.veclen)
	out := make([]float64, n)
	for i, x := range unsafe.Slice((*C.mfcc_t)(v), n) {
		out[i] = float64(x)
	}
	return out
}

// InUtt reports whether an utterance is running.
func (d *Decoder) InUtt() bool { return d.inUtt }

// Process decodes 16 kHz mono samples in the running utterance.
func (d *Decoder) Process(pcm []int16) error {
	if err := d.live(); err != nil {
		return err
	}
	if len(pcm) == 0 {
		return nil
	}
	if !d.inUtt {
		if err := d.StartUtt(); err != nil {
			return err
		}
	}
	if C.ps_process_raw(d.ps, (*C.int16)(unsafe.Pointer(&pcm[0])), C.size_t(len(pcm)), 0, 0) < 0 {
		return fmt.Errorf("sphinx: decoding %d samples failed", len(pcm))
	}
	d.fed += len(pcm)
	d.mark(false)
	return nil
}

// frameShift is PocketSphinx's frame shift at 16 kHz, and frameLag how
// many frames the search runs behind the newest frame of audio (the
// analysis window past the shift, and the dynamic features' window).
const (
	frameShift = 160
	frameLag   = 4
)

// mark places the frames the search added during a call to Process: the
// newest frames of the audio but frameLag. PocketSphinx's VAD holds
// frames back only until it decides that speech began, and then lets
// them all through with the frame that decided it, so a short call's
// frames are placed where they were said. Within one long call (the
// listener's pre-roll, which ends in the wake phrase) the silence the VAD
// left out is taken to come first. At the end of the utterance (final)
// the frames held back by the lag come out and follow the last one
// placed. Where the feature window fills, at the start of the utterance
// and when the VAD lets speech through, the first frames come out ahead
// of the lag: placed, they would overtake the frames after them, and
// are set back (the frames of the audio only go forward). (Process is
// not split into shorter calls to place frames finer: the VAD then lets
// different frames through, and the search hears something else.)
func (d *Decoder) mark(final bool) {
	n := d.Frames()
	added := n - len(d.at)
	if added <= 0 {
		return
	}
	newest := d.fed/frameShift - 1 - frameLag
	if final && len(d.at) > 0 {
		newest = int(d.at[len(d.at)-1]) + added
	}
	for i := added - 1; i >= 0; i-- {
		d.at = append(d.at, int32(max(0, newest-i)))
	}
	for i := len(d.at) - 2; i >= 0 && d.at[i] >= d.at[i+1]; i-- {
		d.at[i] = d.at[i+1] - 1
	}
}

// EndUtt finishes the running utterance; Hyp then returns the final result.
func (d *Decoder) EndUtt() error {
	if err := d.live(); err != nil {
		return err
	}
	if !d.inUtt {
		return nil
	}
	d.inUtt = false
	if C.ps_end_utt(d.ps) < 0 {
		return fmt.Errorf("sphinx: end utterance in search %q failed", d.current)
	}
	d.mark(true)
	return nil
}

// Hyp returns the current best hypothesis and its path score (log domain,
// higher is better); "" when there is none (for keyword spotting: no
// keyphrase detected yet).
func (d *Decoder) Hyp() (string, int32) {
	if d.ps == nil {
		return "", 0
	}
	var score C.int32
	h := C.ps_get_hyp(d.ps, &score)
	if h == nil {
		return "", int32(score)
	}
	return C.GoString(h), int32(score)
}

// Frames is the number of 10 ms frames decoded in the utterance.
func (d *Decoder) Frames() int {
	if d.ps == nil {
		return 0
	}
	return int(C.ps_get_n_frames(d.ps))
}

// nullWord is how a grammar search names a null transition in its
// segmentation; it is no word and takes no time.
const nullWord = "(NULL)"

// Segments returns the words of the current hypothesis, fillers included
// (null transitions of a grammar are not words and are left out), with
// the 10 ms frames of the utterance's audio they start and end at,
// counted from its first: where the words were said, with the silence
// PocketSphinx's VAD left out of the search counted in.
func (d *Decoder) Segments() []Segment {
	if d.ps == nil {
		return nil
	}
	var out []Segment
	for it := C.ps_seg_iter(d.ps); it != nil; it = C.ps_seg_next(it) {
		word := C.GoString(C.ps_seg_word(it))
		if word == nullWord {
			continue
		}
		var sf, ef C.int
		C.ps_seg_frames(it, &sf, &ef)
		var a, l, b C.int32
		p := C.ps_seg_prob(it, &a, &l, &b)
		out = append(out, Segment{Word: word, Start: int(sf), End: int(ef), Prob: int32(p)})
	}
	// The search counts frames on across utterances, and its first
	// segment starts this one's first frame.
	if len(out) > 0 {
		base := out[0].Start
		for i := range out {
			out[i].Start, out[i].End = d.audioFrame(out[i].Start-base), d.audioFrame(out[i].End-base)
		}
	}
	return out
}

// audioFrame is the frame of the utterance's audio that the search's
// frame i came from.
func (d *Decoder) audioFrame(i int) int {
	switch {
	case i < 0 || len(d.at) == 0:
		return max(0, i)
	case i < len(d.at):
		return int(d.at[i])
	}
	return int(d.at[len(d.at)-1]) + i - (len(d.at) - 1)
}
