package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// Client talks to a running daemon.
type Client struct {
	Path string
}

// Call sends req and decodes the result into out (which may be nil). It
// returns an error wrapping ErrUnreachable when no daemon answers, and the
// daemon's own message when it refuses the request.
func (c Client) Call(ctx context.Context, req Request, out any) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.Path)
	if errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("%w on %s: only root and the group earshot may use it (sudo adduser $USER earshot, then log in again)", ErrDenied, c.Path)
	}
	if err != nil {
		return fmt.Errorf("%w at %s: %v", ErrUnreachable, c.Path, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	conn.SetDeadline(time.Now().Add(ioTimeout))
	sendErr := json.NewEncoder(conn).Encode(req)
	var resp Response
	// A busy daemon answers without reading the request and hangs up, so
	// a failed send may still have an answer waiting.
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		if sendErr != nil {
			return fmt.Errorf("%w at %s: send: %v", ErrUnreachable, c.Path, sendErr)
		}
		return fmt.Errorf("%w at %s: no answer: %v", ErrUnreachable, c.Path, err)
	}
	if !resp.OK {
		return errors.New(resp.Error)
	}
	if out != nil {
		if err := json.Unmarshal(resp.Result, out); err != nil {
			return fmt.Errorf("decode %s result: %w", req.Cmd, err)
		}
	}
	return nil
}
