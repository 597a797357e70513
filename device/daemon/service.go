package daemon

import (
	"errors"
	"time"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/device/control"
	"github.com/earshot/earshot/device/hub"
	"github.com/earshot/earshot/retention"
)

// service is the daemon as the control socket sees it.
type service struct{ d *Daemon }

func (s service) Status() control.Status {
	d := s.d
	st := d.store.Stats()
	muted, source := d.mute.Muted()
	link := "none"
	if d.link != nil {
		link = "disconnected"
		if d.link.Connected() {
			link = "connected"
		}
	}
	return control.Status{
		DeviceID:   d.cfg.DeviceID,
		Muted:      muted,
		MuteSource: source,
		Window:     hub.FormatWindow(st.Window),
		Ceiling:    hub.FormatWindow(st.Ceiling),
		Records:    st.Records,
		Bytes:      st.Bytes,
		Oldest:     st.Oldest,
		Hub:        link,
		FramesRead: d.framesRead.Load(),
		Listening:  d.listening.Load(),
		Started:    d.started,
		Earcons:    d.earcons.played.Load(),
	}
}

func (s service) History(since time.Time) ([]control.HistoryEntry, error) {
	recs, err := s.d.store.List(retention.Filter{Since: since})
	if err != nil {
		return nil, err
	}
	out := make([]control.HistoryEntry, len(recs))
	for i, r := range recs {
		out[i] = control.HistoryEntry{ID: r.ID, Time: r.Time, Intent: r.Intent, Slots: r.Slots, Transcript: r.Transcript, Duration: r.Duration}
	}
	return out, nil
}

func (s service) Audio(id string) (control.Audio, error) {
	pcm, err := s.d.store.Audio(id)
	if err != nil {
		return control.Audio{}, err
	}
	return control.Audio{ID: id, SampleRate: audio.SampleRate, PCM: control.EncodePCM(pcm)}, nil
}

// Delete runs a CLI deletion; the receipt is published before the answer.
func (s service) Delete(req control.Request) (control.DeleteResult, error) {
	var (
		r   retention.Receipt
		err error
	)
	switch {
	case req.All:
		r, err = s.d.store.DeleteAll()
	case len(req.IDs) > 0:
		r, err = s.d.store.Delete(req.IDs...)
	case req.Before != nil:
		r, err = s.d.store.DeleteBefore(*req.Before)
	case req.Since != nil:
		r, err = s.d.store.DeleteSince(*req.Since)
	default:
		return control.DeleteResult{}, errors.New("delete: name record ids, or all, before or since")
	}
	if err != nil {
		if r.Records > 0 { // some ids were unknown; the rest are gone, and the hub is told
			s.d.published(r)
		}
		return control.DeleteResult{}, err
	}
	s.d.published(r)
	return control.DeleteResult{Receipts: []retention.Receipt{r}}, nil
}

func (s service) Mute(source string) error   { return s.d.mute.Mute(source) }
func (s service) Unmute(source string) error { return s.d.mute.Unmute(source) }

// hubStore gives the hub link the store. A window the hub shortens can
// destroy records; that receipt is published like any other.
type hubStore struct {
	*retention.Store
	d *Daemon
}

func (s hubStore) SetWindow(w time.Duration) error {
	r, err := s.Store.SetWindow(w)
	if err == nil {
		s.d.published(r)
	}
	return err
}
