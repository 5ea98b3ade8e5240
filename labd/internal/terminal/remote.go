package terminal

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
)

// Remote is the client side of a tty.v1 connection, for Go programs: tests,
// the benchmark, scripts.
type Remote struct {
	ws    *websocket.Conn
	Hello Hello
	mu    sync.Mutex
}

// ServerFrame is a decoded server frame.
type ServerFrame struct {
	Type    byte
	Offset  uint64 // output
	Data    []byte // output, pong
	Code    int    // exit
	Error   string // error code
	Message string // error message
	Stalled bool   // state
}

// Dial connects to a terminal URL (ws:// or wss://) with a ticket, and reads the hello.
func Dial(ctx context.Context, url, ticket string, header http.Header) (*Remote, *http.Response, error) {
	d := websocket.Dialer{Subprotocols: []string{Protocol, "ticket." + ticket}}
	ws, resp, err := d.DialContext(ctx, url, header)
	if err != nil {
		return nil, resp, err
	}
	r := &Remote{ws: ws}
	f, err := r.Read()
	if err != nil {
		ws.Close()
		return nil, resp, err
	}
	if f.Type != TypeHello {
		ws.Close()
		return nil, resp, fmt.Errorf("first frame %q, want hello", f.Type)
	}
	return r, resp, nil
}

// Read returns the next server frame; a hello is decoded into r.Hello.
func (r *Remote) Read() (ServerFrame, error) {
	kind, data, err := r.ws.ReadMessage()
	if err != nil {
		return ServerFrame{}, err
	}
	if kind != websocket.BinaryMessage || len(data) == 0 {
		return ServerFrame{}, errors.New("tty.v1: not a binary frame")
	}
	f := ServerFrame{Type: data[0]}
	p := data[1:]
	switch f.Type {
	case TypeHello:
		err = json.Unmarshal(p, &r.Hello)
	case TypeOutput:
		if len(p) < 8 {
			return f, errors.New("tty.v1: short output frame")
		}
		f.Offset, f.Data = binary.BigEndian.Uint64(p), p[8:]
	case TypeExit:
		var x struct{ Code int }
		err = json.Unmarshal(p, &x)
		f.Code = x.Code
	case TypeError:
		var e struct{ Code, Message string }
		err = json.Unmarshal(p, &e)
		f.Error, f.Message = e.Code, e.Message
	case TypeState:
		var st struct{ Stalled bool }
		err = json.Unmarshal(p, &st)
		f.Stalled = st.Stalled
	case TypePong:
		f.Data = p
	}
	return f, err
}

// Send writes a client frame (see Input, Resize, Ack, Ping).
func (r *Remote) Send(frame []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ws.WriteMessage(websocket.BinaryMessage, frame)
}

// SendRaw writes any websocket message, for tests of bad input.
func (r *Remote) SendRaw(kind int, data []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ws.WriteMessage(kind, data)
}

// Close closes the connection without a closing handshake, as a dropped network would.
func (r *Remote) Close() error { return r.ws.Close() }
