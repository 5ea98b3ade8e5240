// Package terminal is the tty.v1 protocol and the hub that connects one
// shell on a lab node to its browser clients: a ring of output with stream
// offsets for lossless resume, flow control by acks, observers that never
// slow the shell down, and an asciicast v2 recording.
package terminal

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// Protocol is the websocket subprotocol name.
const Protocol = "tty.v1"

// Frame types, the first byte of every binary websocket message.
const (
	// Server to client.
	TypeHello  byte = 'H' // JSON Hello
	TypeOutput byte = 'o' // uint64 stream offset of the first byte, then the bytes
	TypeExit   byte = 'x' // JSON {"code":N}, after all output
	TypeError  byte = 'e' // JSON {"code","message"}, then close
	TypePong   byte = 'P' // the ping's 8 bytes
	TypeState  byte = 's' // JSON {"stalled":bool}: the shell stopped (or resumed) taking input

	// Client to server.
	TypeInput  byte = 'i' // bytes
	TypeResize byte = 'r' // uint16 cols, uint16 rows
	TypeAck    byte = 'a' // uint64: output bytes the client has processed
	TypePing   byte = 'p' // 8 opaque bytes
)

// MaxClientFrame bounds a client frame: input arrives in keystrokes and pastes.
const MaxClientFrame = 64 << 10

// Size limits of a terminal.
const (
	MinSize = 1
	MaxCols = 1000
	MaxRows = 500
)

// Hello opens every connection.
type Hello struct {
	Protocol string `json:"protocol"`
	Role     string `json:"role"` // writer or observer
	Cols     int    `json:"cols"`
	Rows     int    `json:"rows"`
	Offset   uint64 `json:"offset"`  // of the first output byte that follows
	Reset    bool   `json:"reset"`   // the requested offset was gone: the screen starts over
	Stalled  bool   `json:"stalled"` // the shell takes no input (see TypeState)
}

// ClientFrame is a decoded client frame.
type ClientFrame struct {
	Type       byte
	Input      []byte // TypeInput
	Cols, Rows int    // TypeResize
	Ack        uint64 // TypeAck
	Ping       [8]byte
}

// Protocol errors; the server answers each with an 'e' frame and closes.
var (
	ErrEmptyFrame   = errors.New("empty frame")
	ErrFrameTooBig  = fmt.Errorf("frame larger than %d bytes", MaxClientFrame)
	ErrUnknownFrame = errors.New("unknown frame type")
	ErrBadLength    = errors.New("bad frame length")
	ErrBadSize      = fmt.Errorf("terminal size out of range (1..%d columns, 1..%d rows)", MaxCols, MaxRows)
)

// DecodeClient decodes one client frame. It never keeps a reference to b
// except in Input, which aliases it.
func DecodeClient(b []byte) (ClientFrame, error) {
	if len(b) == 0 {
		return ClientFrame{}, ErrEmptyFrame
	}
	if len(b) > MaxClientFrame {
		return ClientFrame{}, ErrFrameTooBig
	}
	f := ClientFrame{Type: b[0]}
	p := b[1:]
	switch f.Type {
	case TypeInput:
		f.Input = p
	case TypeResize:
		if len(p) != 4 {
			return f, ErrBadLength
		}
		f.Cols, f.Rows = int(binary.BigEndian.Uint16(p)), int(binary.BigEndian.Uint16(p[2:]))
		if f.Cols < MinSize || f.Rows < MinSize || f.Cols > MaxCols || f.Rows > MaxRows {
			return f, ErrBadSize
		}
	case TypeAck:
		if len(p) != 8 {
			return f, ErrBadLength
		}
		f.Ack = binary.BigEndian.Uint64(p)
	case TypePing:
		if len(p) != 8 {
			return f, ErrBadLength
		}
		copy(f.Ping[:], p)
	default:
		return f, ErrUnknownFrame
	}
	return f, nil
}

// AppendOutput appends an output frame for data starting at offset.
func AppendOutput(dst []byte, offset uint64, data []byte) []byte {
	dst = append(dst, TypeOutput)
	dst = binary.BigEndian.AppendUint64(dst, offset)
	return append(dst, data...)
}

// JSONFrame is a frame of type t with v as JSON.
func JSONFrame(t byte, v any) []byte {
	data, _ := json.Marshal(v)
	return append([]byte{t}, data...)
}

// Client frame builders, for Go clients and tests.

// Input is an input frame.
func Input(data []byte) []byte { return append([]byte{TypeInput}, data...) }

// Resize is a resize frame.
func Resize(cols, rows int) []byte {
	b := []byte{TypeResize, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(b[1:], uint16(cols))
	binary.BigEndian.PutUint16(b[3:], uint16(rows))
	return b
}

// Ack is an ack frame.
func Ack(n uint64) []byte { return binary.BigEndian.AppendUint64([]byte{TypeAck}, n) }

// Ping is a ping frame.
func Ping(p [8]byte) []byte { return append([]byte{TypePing}, p[:]...) }
