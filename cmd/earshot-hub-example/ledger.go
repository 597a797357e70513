package main

import (
	"encoding/json"
	"slices"
	"time"
)

// ledger is everything a hub needs to honour receipts: the action records
// it keeps, and the rule that what the device forgot, the hub forgets.
type ledger struct {
	actions []action
}

// action is an action record as earshot publishes it. Raw is the payload
// as received, which is what the hub keeps.
type action struct {
	ID        string          `json:"id"`
	Device    string          `json:"device"`
	Time      time.Time       `json:"time"`
	KeepUntil time.Time       `json:"keep_until"`
	Raw       json.RawMessage `json:"-"`
}

// receipt is the part of a receipt a hub acts on.
type receipt struct {
	Scope string    `json:"scope"`
	Time  time.Time `json:"time"`
	IDs   []string  `json:"ids"`
}

// Action keeps an action record, once (QoS1 may deliver it twice), unless
// it is already past its keep_until.
func (l *ledger) Action(payload []byte, now time.Time) error {
	var a action
	if err := json.Unmarshal(payload, &a); err != nil || a.ID == "" {
		return errBad("action", payload, err)
	}
	if !a.KeepUntil.After(now) || slices.ContainsFunc(l.actions, func(k action) bool { return k.ID == a.ID }) {
		return nil // the device keeps nothing of it (so neither does the hub), or it is here
	}
	a.Raw = slices.Clone(payload)
	l.actions = append(l.actions, a)
	return nil
}

// Receipt forgets every action a receipt names. One of scope "all" that
// names nothing (the device lost its key and could not read the ids) means
// everything of that device up to the receipt's time is gone.
func (l *ledger) Receipt(device string, payload []byte) error {
	var r receipt
	if err := json.Unmarshal(payload, &r); err != nil {
		return errBad("receipt", payload, err)
	}
	l.actions = slices.DeleteFunc(l.actions, func(a action) bool {
		return slices.Contains(r.IDs, a.ID) ||
			r.Scope == "all" && len(r.IDs) == 0 && a.Device == device && !a.Time.After(r.Time)
	})
	return nil
}

// Expire forgets what has outlived its keep_until, receipt or not.
func (l *ledger) Expire(now time.Time) {
	l.actions = slices.DeleteFunc(l.actions, func(a action) bool { return !a.KeepUntil.After(now) })
}
