//go:build cgo && !nopocketsphinx

package sphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#include <stdlib.h>
#include <pocketsphinx.h>
#include <sphinxbase/jsgf.h>
#include <sphinxbase/fsg_model.h>

// earshot_fsg_new starts an empty word FSG for the decoder ps, with the
// language weight JSGF grammars get: it scales only the silence and
// filler loops the search adds, as it does for them.
static fsg_model_t *earshot_fsg_new(ps_decoder_t *ps, char const *name, int n, int start, int final) {
	fsg_model_t *fsg = fsg_model_init(name, ps_get_logmath(ps), cmd_ln_float32_r(ps_get_config(ps), "-lw"), n);
	if (fsg != NULL) {
		fsg->start_state = start;
		fsg->final_state = final;
	}
	return fsg;
}

// earshot_fsg_trans adds a transition of natural-log probability lnp,
// unscaled as jsgf_build_fsg leaves JSGF weights; wid < 0 makes it a
// null transition.
static void earshot_fsg_trans(fsg_model_t *fsg, int from, int to, double lnp, int wid) {
	int logp = logmath_ln_to_log(fsg->lmath, lnp);
	if (wid < 0) {
		fsg_model_null_trans_add(fsg, from, to, logp);
	} else {
		fsg_model_trans_add(fsg, from, to, logp, wid);
	}
}

// earshot_set_fsg completes fsg and adds (or replaces) the search name
// with it. The search follows null transitions one step at a time, so
// their transitive closure goes in first, as jsgf_build_fsg does; the
// search adds the silence and filler loops and the alternative
// pronunciations itself. -1: the search rejected it.
static int earshot_set_fsg(ps_decoder_t *ps, char const *name, fsg_model_t *fsg) {
	glist_free(fsg_model_null_trans_closure(fsg, NULL));
	int r = ps_set_fsg(ps, name, fsg);
	fsg_model_free(fsg); // the search holds its own reference
	return r < 0 ? -1 : 0;
}

// earshot_fsg_size counts the states and transitions of the grammar
// search name as the decoder holds it; -1 if there is no such search.
static int earshot_fsg_size(ps_decoder_t *ps, char const *name, int *transitions) {
	fsg_model_t *fsg = ps_get_fsg(ps, name);
	if (fsg == NULL) return -1;
	int n = 0;
	for (int s = 0; s < fsg_model_n_state(fsg); s++) {
		for (fsg_arciter_t *it = fsg_model_arcs(fsg, s); it != NULL; it = fsg_arciter_next(it)) n++;
	}
	*transitions = n;
	return fsg_model_n_state(fsg);
}

// earshot_jsgf_fsg compiles JSGF text to an FSG exactly as SetJSGF has
// the decoder do, but without a search, so tests can read what
// PocketSphinx makes of a JSGF grammar. NULL if it is rejected.
static fsg_model_t *earshot_jsgf_fsg(ps_decoder_t *ps, char const *text, char const *toprule) {
	jsgf_t *jsgf = jsgf_parse_string(text, NULL);
	if (jsgf == NULL) return NULL;
	jsgf_rule_t *rule = jsgf_get_rule(jsgf, toprule);
	fsg_model_t *fsg = NULL;
	if (rule != NULL) fsg = jsgf_build_fsg(jsgf, rule, ps_get_logmath(ps), cmd_ln_float32_r(ps_get_config(ps), "-lw"));
	jsgf_grammar_free(jsgf);
	return fsg;
}

static char const *earshot_fsg_word(fsg_model_t *fsg, int wid) {
	return wid < 0 ? "" : fsg->vocab[wid];
}

static double earshot_log_to_ln(fsg_model_t *fsg, int logp) {
	return logmath_log_to_ln(fsg->lmath, logp);
}
*/
import "C"

import (
	"fmt"
	"slices"
	"strings"
	"unsafe"
)

// SetFSG adds (or replaces) a grammar search for the word FSG g, built
// in memory (intents.Compile makes one). Every word must be in the
// decoder's dictionary (see AddWords).
func (d *Decoder) SetFSG(name string, g FSG) error { return d.SetFSGBeams(name, g, Beams{}) }

// SetFSGBeams is SetFSG with the search's own pruning beams: a search
// reads them from the decoder's configuration when it is made, so one
// search can look wider than the others on the same decoder.
func (d *Decoder) SetFSGBeams(name string, g FSG, b Beams) error {
	if err := d.live(); err != nil {
		return err
	}
	for _, kv := range [...]struct {
		key string
		val float64
	}{{"-beam", b.HMM}, {"-pbeam", b.Phone}, {"-wbeam", b.Word}} {
		if kv.val == 0 {
			continue
		}
		key := C.CString(kv.key)
		old := C.cmd_ln_float_r(d.cfg, key)
		C.cmd_ln_set_float_r(d.cfg, key, C.double(kv.val))
		defer func() {
			C.cmd_ln_set_float_r(d.cfg, key, old)
			C.free(unsafe.Pointer(key))
		}()
	}
	return d.setFSG(name, g)
}

func (d *Decoder) setFSG(name string, g FSG) error {
	if err := checkFSG(g); err != nil {
		return fmt.Errorf("sphinx: grammar search %q: %w", name, err)
	}
	var missing []string
	g.EachTransition(func(_, _ int, word string, _ float64) {
		if word != "" && !slices.Contains(missing, word) && !d.known(word) {
			missing = append(missing, word)
		}
	})
	if len(missing) > 0 {
		return fmt.Errorf("sphinx: grammar search %q: words not in the decoder's dictionary: %s", name, strings.Join(missing, ", "))
	}
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	if err := d.replacing(name); err != nil {
		return err
	}
	fsg := C.earshot_fsg_new(d.ps, cn, C.int(g.States()), C.int(g.Start()), C.int(g.Final()))
	if fsg == nil {
		return fmt.Errorf("sphinx: grammar search %q: cannot allocate %d states", name, g.States())
	}
	wids := map[string]C.int{}
	g.EachTransition(func(from, to int, word string, logProb float64) {
		wid := C.int(-1)
		if word != "" {
			var ok bool
			if wid, ok = wids[word]; !ok {
				cw := C.CString(word)
				wid = C.fsg_model_word_add(fsg, cw)
				C.free(unsafe.Pointer(cw))
				wids[word] = wid
			}
		}
		C.earshot_fsg_trans(fsg, C.int(from), C.int(to), C.double(logProb), wid)
	})
	if C.earshot_set_fsg(d.ps, cn, fsg) < 0 {
		return fmt.Errorf("sphinx: grammar search %q: rejected by the decoder", name)
	}
	return d.replaced(name, cn)
}

// FSGSize reports the states and transitions of the grammar search name
// as the decoder holds it, with the silence and filler loops and the
// alternative pronunciations it adds: what its memory and time grow with.
func (d *Decoder) FSGSize(name string) (states, transitions int, err error) {
	if err := d.live(); err != nil {
		return 0, 0, err
	}
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	var n C.int
	s := C.earshot_fsg_size(d.ps, cn, &n)
	if s < 0 {
		return 0, 0, fmt.Errorf("sphinx: no grammar search named %q", name)
	}
	return int(s), int(n), nil
}

// jsgfFSG returns the FSG PocketSphinx compiles from JSGF text for the
// top rule ("grammar.rule"), as SetJSGF would search it before the search
// adds its silence loops: the reference the in-memory FSGs are tested
// against.
func (d *Decoder) jsgfFSG(jsgf, rule string) (states, start, final int, trans []fsgTransition, err error) {
	if err := d.live(); err != nil {
		return 0, 0, 0, nil, err
	}
	cj, cr := C.CString(jsgf), C.CString(rule)
	defer C.free(unsafe.Pointer(cj))
	defer C.free(unsafe.Pointer(cr))
	fsg := C.earshot_jsgf_fsg(d.ps, cj, cr)
	if fsg == nil {
		return 0, 0, 0, nil, fmt.Errorf("sphinx: JSGF or its rule <%s> rejected", rule)
	}
	defer C.fsg_model_free(fsg)
	states = int(fsg.n_state)
	for s := range states {
		for it := C.fsg_model_arcs(fsg, C.int32(s)); it != nil; it = C.fsg_arciter_next(it) {
			l := C.fsg_arciter_get(it)
			trans = append(trans, fsgTransition{
				from:    int(l.from_state),
				to:      int(l.to_state),
				word:    C.GoString(C.earshot_fsg_word(fsg, C.int(l.wid))),
				logProb: float64(C.earshot_log_to_ln(fsg, l.logs2prob)),
			})
		}
	}
	return states, int(fsg.start_state), int(fsg.final_state), trans, nil
}
