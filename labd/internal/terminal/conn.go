package terminal

import (
	"encoding/binary"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Connection timing.
const (
	writeWait = 10 * time.Second // a frame that cannot be written in this time ends the connection
	pingEvery = 20 * time.Second
	// observerPace spaces an observer's frames: a watcher sees 20 updates a
	// second, and a hundred watchers of a busy terminal cost little.
	observerPace = 50 * time.Millisecond
	bulkFrame    = 4 << 10
	bulkPause    = 200 * time.Microsecond
	readWithin   = 60 * time.Second // the client must send something (a pong at least) this often
)

// Upgrader is the websocket upgrader for tty.v1 connections. Its write
// buffer holds a whole output frame, so a frame is one write. It does not
// check Origin: the caller must, before upgrading.
func Upgrader() *websocket.Upgrader {
	return &websocket.Upgrader{
		Subprotocols:    []string{Protocol},
		ReadBufferSize:  16 << 10,
		WriteBufferSize: chunk + 64,
		CheckOrigin:     func(*http.Request) bool { return true },
	}
}

type wsConn struct {
	ws *websocket.Conn
	mu sync.Mutex // gorilla allows one writer at a time
}

func (w *wsConn) write(kind int, data []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ws.SetWriteDeadline(time.Now().Add(writeWait))
	return w.ws.WriteMessage(kind, data)
}

// fail sends an 'e' frame and closes.
func (w *wsConn) fail(code, message string) {
	w.write(websocket.BinaryMessage, JSONFrame(TypeError, map[string]string{"code": code, "message": message}))
	w.write(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, code))
	w.ws.Close()
}

// Serve runs a tty.v1 connection for c until either side ends it. It owns ws.
func Serve(ws *websocket.Conn, c *Client, log *slog.Logger) {
	conn := &wsConn{ws: ws}
	defer ws.Close()
	defer c.Detach()
	// Frames up to twice the limit are read and refused with an 'e' frame;
	// larger ones make the websocket library close the connection itself.
	ws.SetReadLimit(2 * MaxClientFrame)
	ws.SetReadDeadline(time.Now().Add(readWithin))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(readWithin)) })

	if err := conn.write(websocket.BinaryMessage, JSONFrame(TypeHello, c.Hello)); err != nil {
		return
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		if code, msg := readLoop(conn, c); code != "" {
			conn.fail(code, msg)
		}
		c.Detach() // wakes the writer loop
	}()
	go func() {
		t := time.NewTicker(pingEvery)
		defer t.Stop()
		for {
			select {
			case <-readDone:
				return
			case <-t.C:
				if conn.write(websocket.PingMessage, nil) != nil {
					return
				}
			}
		}
	}()

	buf := make([]byte, chunk)
	frame := make([]byte, 0, chunk+9)
	for {
		ev, err := c.Next(buf)
		if err != nil {
			if reason := c.closeReason(); reason != "" {
				conn.fail(reason, closeMessages[reason])
			}
			break
		}
		if ev.Exit {
			conn.write(websocket.BinaryMessage, JSONFrame(TypeExit, map[string]int{"code": ev.Code}))
			conn.write(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "exit"))
			break
		}
		if ev.State {
			if conn.write(websocket.BinaryMessage, JSONFrame(TypeState, map[string]bool{"stalled": ev.Stalled})) != nil {
				break
			}
			continue
		}
		n := ev.N
		frame = AppendOutput(frame[:0], ev.Offset, buf[:n])
		if err := conn.write(websocket.BinaryMessage, frame); err != nil {
			break
		}
		switch {
		case c.Observer:
			select {
			case <-readDone:
			case <-time.After(observerPace):
			}
		case n >= bulkFrame && n < chunk:
			// A stream, not typing: let output gather so frames are large
			// (fewer writes, far less CPU per byte). Echoes are small and
			// never wait.
			time.Sleep(bulkPause)
		}
	}
	ws.Close()
	<-readDone
	_ = log
}

var closeMessages = map[string]string{
	"replaced":  "this terminal was opened in another window",
	"ended":     "the terminal has ended",
	"restarted": "the terminal was restarted: a new shell starts",
}

// readLoop handles client frames until the connection ends. It returns an
// error code and message to send when the client broke the protocol.
func readLoop(conn *wsConn, c *Client) (code, message string) {
	for {
		kind, data, err := conn.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) || errors.Is(err, websocket.ErrReadLimit) {
				return "", ""
			}
			return "", ""
		}
		conn.ws.SetReadDeadline(time.Now().Add(readWithin))
		if kind != websocket.BinaryMessage {
			return "bad_frame", "tty.v1 uses binary frames only"
		}
		f, err := DecodeClient(data)
		switch {
		case errors.Is(err, ErrUnknownFrame):
			continue // room for later protocol versions
		case errors.Is(err, ErrBadSize):
			continue // a resize out of range is ignored
		case err != nil:
			return "bad_frame", err.Error()
		}
		switch f.Type {
		case TypeInput:
			// Never blocks: input the shell cannot take is dropped, and
			// every client is told the terminal is stalled.
			c.Input(f.Input)
		case TypeResize:
			c.Resize(f.Cols, f.Rows)
		case TypeAck:
			c.Ack(f.Ack)
		case TypePing:
			pong := binary.BigEndian.AppendUint64([]byte{TypePong}, binary.BigEndian.Uint64(f.Ping[:]))
			if conn.write(websocket.BinaryMessage, pong) != nil {
				return "", ""
			}
		}
	}
}
