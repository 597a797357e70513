package hub

import (
	"encoding/json"

	"github.com/earshot/earshot/retention"
)

// MaxReceiptIDs is how many record ids one message on the receipt topic
// names at most. A larger deletion goes out as parts 1..n of one receipt
// (same id), all before the reply to the command that caused it, so no
// message grows with the size of the history.
const MaxReceiptIDs = 500

// receiptPart is one message on the receipt topic: the receipt with a
// slice of its ids.
type receiptPart struct {
	retention.Receipt
	Part  int `json:"part"`
	Parts int `json:"parts"`
}

// receiptSummary is a receipt as the reply to cmd/delete carries it. Its
// ids went out in the receipt's own messages just before; the reply says
// how many of those there were instead of naming every id again.
type receiptSummary struct {
	retention.Receipt
	IDs   []string `json:"ids,omitempty"` // shadows Receipt.IDs; always nil
	Parts int      `json:"parts"`
}

func replyReceipt(r retention.Receipt) receiptSummary {
	return receiptSummary{Receipt: r, Parts: partCount(r)}
}

// partCount is how many messages r takes: one even when it names nothing.
func partCount(r retention.Receipt) int {
	return max(1, (len(r.IDs)+MaxReceiptIDs-1)/MaxReceiptIDs)
}

// encodeReceiptPart encodes part (1-based) of r.
func encodeReceiptPart(r retention.Receipt, part int) ([]byte, error) {
	lo := min((part-1)*MaxReceiptIDs, len(r.IDs))
	hi := min(lo+MaxReceiptIDs, len(r.IDs))
	p := receiptPart{Receipt: r, Part: part, Parts: partCount(r)}
	p.IDs = append([]string{}, r.IDs[lo:hi]...) // [] rather than null when empty
	return json.Marshal(p)
}

// queuedReceipt is a receipt waiting for the broker, with the first part
// not yet handed to paho, so a connection lost halfway resumes there.
// unacked records that a part went to paho but was not acknowledged in
// time (paho resends it): the receipt then does not count as delivered.
type queuedReceipt struct {
	r       retention.Receipt
	next    int
	unacked bool
}
