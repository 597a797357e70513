// Package retention is earshot's encrypted ring buffer of recordings.
//
// It guarantees that no record older than the window can be read once the
// window has passed, that every deletion is fsynced and destroys the record's
// key before it returns (crypto-shredding), that nothing the user said is
// stored in plaintext, and that a crash at any instant loses at most the
// record being written. The on-disk format is described in FORMAT.md.
package retention
