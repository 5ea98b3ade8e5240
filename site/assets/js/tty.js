// tty.v1 client: one terminal of a lab session node in an xterm.js
// terminal. It resumes after a dropped connection from the last byte the
// terminal has processed, acks what it has processed (flow control), and
// tells its state: connecting, connected, stalled (the shell takes no
// input: restart it), reconnecting, ended.

const enc = new TextEncoder();
const ACK_EVERY = 64 * 1024;

function frame(type, payload) {
  const b = new Uint8Array(1 + (payload ? payload.length : 0));
  b[0] = type.charCodeAt(0);
  if (payload) b.set(payload, 1);
  return b;
}

function u64(n) {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

export class TTY {
  // opts: {wsURL(from, cols, rows) -> url, ticket() -> Promise<string>, term, onState(state, detail),
  //        restart() -> Promise, writerSize (an observer takes the writer's size)}
  constructor(opts) {
    this.o = opts;
    this.term = opts.term;
    this.offset = 0; // stream offset of the next byte to process
    this.acked = 0;
    this.state = "";
    this.tries = 0;
    this.closed = false;
    this.term.onData((d) => this.send(frame("i", enc.encode(d))));
    this.term.onBinary((d) => this.send(frame("i", Uint8Array.from(d, (c) => c.charCodeAt(0) & 255))));
    this.term.onResize(({ cols, rows }) => this.resize(cols, rows));
    this.term.attachCustomKeyEventHandler((e) => this.clipboard(e));
  }

  setState(s, detail) {
    this.state = s;
    if (this.o.onState) this.o.onState(s, detail);
  }

  async connect() {
    if (this.closed) return;
    this.setState(this.tries ? "reconnecting" : "connecting");
    let ticket;
    try {
      ticket = await this.o.ticket();
    } catch (err) {
      if (err && err.final) return this.end(err.message);
      return this.retry();
    }
    const ws = new WebSocket(this.o.wsURL(this.offset, this.term.cols, this.term.rows), ["tty.v1", "ticket." + ticket]);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onmessage = (ev) => this.onFrame(new Uint8Array(ev.data));
    ws.onclose = () => {
      clearInterval(this.pinger);
      if (this.ws === ws && !this.closed && this.state !== "ended") this.retry();
    };
    ws.onopen = () => {
      this.tries = 0;
      this.pinger = setInterval(() => this.ping(), 20000);
    };
  }

  retry() {
    this.tries++;
    this.setState("reconnecting");
    // Backoff with jitter: 0.25 s, 0.5 s, 1 s ... up to 10 s.
    const wait = Math.min(10000, 250 * 2 ** Math.min(this.tries - 1, 6)) * (0.75 + Math.random() / 2);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  onFrame(b) {
    if (b.length === 0) return;
    const type = String.fromCharCode(b[0]);
    const p = b.subarray(1);
    switch (type) {
      case "H": {
        const h = JSON.parse(new TextDecoder().decode(p));
        if (h.reset) this.term.reset();
        this.offset = h.offset;
        this.acked = Math.min(this.acked, h.offset);
        this.role = h.role;
        // A thumbnail shows the writer's screen at the writer's size.
        if (this.o.writerSize && h.cols && h.rows) this.term.resize(h.cols, h.rows);
        this.setState(h.stalled ? "stalled" : "connected", h.role);
        if (h.role === "writer") this.resize(this.term.cols, this.term.rows);
        break;
      }
      case "o": {
        const off = Number(new DataView(p.buffer, p.byteOffset, 8).getBigUint64(0));
        let data = p.subarray(8);
        const skip = this.offset - off; // bytes already shown (a resend)
        if (skip >= data.length) return;
        if (skip > 0) data = data.subarray(skip);
        const end = Math.max(off, this.offset) + data.length;
        this.offset = end;
        this.term.write(data, () => this.processed(end));
        break;
      }
      case "x":
        this.end(null, JSON.parse(new TextDecoder().decode(p)).code);
        break;
      case "s": {
        const st = JSON.parse(new TextDecoder().decode(p));
        this.setState(st.stalled ? "stalled" : "connected", this.role);
        break;
      }
      case "e": {
        const e = JSON.parse(new TextDecoder().decode(p));
        if (e.code === "replaced" || e.code === "ended") this.end(e.message);
        // "restarted": a new shell, a new stream; reconnect to it at once.
        if (e.code === "restarted") this.fresh();
        break;
      }
      case "P":
        clearTimeout(this.pongTimer);
        break;
    }
  }

  // processed acks what xterm.js has rendered: in steps of ACK_EVERY while
  // output streams, else a little later (not one ack per keystroke).
  processed(end) {
    this.done = end;
    if (end - this.acked >= ACK_EVERY) return this.ack();
    if (!this.ackTimer) this.ackTimer = setTimeout(() => this.ack(), 100);
  }

  ack() {
    clearTimeout(this.ackTimer);
    this.ackTimer = 0;
    if (this.done > this.acked && this.send(frame("a", u64(this.done)))) this.acked = this.done;
  }

  ping() {
    this.send(frame("p", u64(Date.now())));
    clearTimeout(this.pongTimer);
    // No pong in 10 s: the connection is dead even if the socket does not know it.
    this.pongTimer = setTimeout(() => this.ws && this.ws.close(), 10000);
  }

  resize(cols, rows) {
    if (this.role !== "writer") return;
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint16(0, cols);
    new DataView(b.buffer).setUint16(2, rows);
    this.send(frame("r", b));
  }

  send(b) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(b);
    return true;
  }

  // Ctrl+Shift+C copies the selection, Ctrl+Shift+V pastes (Ctrl+C stays an interrupt).
  clipboard(e) {
    if (e.type !== "keydown" || !e.ctrlKey || !e.shiftKey) return true;
    if (e.code === "KeyC" && this.term.hasSelection()) {
      navigator.clipboard && navigator.clipboard.writeText(this.term.getSelection());
      return false;
    }
    if (e.code === "KeyV" && navigator.clipboard) {
      navigator.clipboard.readText().then((t) => this.term.paste(t));
      return false;
    }
    return true;
  }

  // restart asks labd to end this node's shell and start a new one (the
  // owner's or an admin's right); the "restarted" frame that follows
  // reconnects every window of it, this one too.
  async restart() {
    if (!this.o.restart) return;
    await this.o.restart();
    if (this.closed) {
      this.closed = false;
      this.fresh();
    }
  }

  // fresh starts over on a new stream: a blank screen, offset 0, connected now.
  fresh() {
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
    clearInterval(this.pinger);
    clearTimeout(this.timer);
    this.term.reset();
    this.offset = this.acked = this.done = 0;
    this.tries = 0;
    this.connect();
  }

  end(message, code) {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    this.setState("ended", message || (code !== undefined ? "exit " + code : ""));
    if (this.ws) this.ws.close();
  }

  // drop closes the socket as a failing network would (for tests and the UI's "reconnect").
  drop() {
    if (this.ws) this.ws.close();
  }
}

// nodeEndpoints are the TTY options that reach a lab session's node through
// labd: the websocket URL and a fresh single-use ticket per connection (a
// refusal short of a server error is final: no retry). call is api.js's api.
export function nodeEndpoints(sessionID, node, call) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return {
    wsURL: (from, cols, rows) =>
      `${scheme}://${location.host}/api/sessions/${sessionID}/nodes/${node}/terminal?from=${from}&cols=${cols}&rows=${rows}`,
    restart: () => call("POST", `/sessions/${sessionID}/nodes/${node}/terminal/restart`),
    ticket: async () => {
      try {
        return (await call("POST", `/sessions/${sessionID}/nodes/${node}/ticket`)).ticket;
      } catch (e) {
        if (e.status && e.status < 500) e.final = true;
        throw e;
      }
    },
  };
}

// stalledText names the stalled state in the page's language.
export function stalledText() {
  return (document.documentElement.lang || "").startsWith("zh") ? "不接受输入：请重启终端" : "takes no input: restart it";
}

// restartButton is a page's "restart terminal" control: current() is the
// TTY it acts on (the node shown). It asks first, since the shell's running
// programs end. Its data-attention is set while that terminal is stalled.
export function restartButton(current) {
  const zh = (document.documentElement.lang || "").startsWith("zh");
  const b = document.createElement("button");
  b.type = "button";
  b.className = "tty-restart";
  b.textContent = zh ? "重启终端" : "Restart terminal";
  b.addEventListener("click", async () => {
    const tty = current();
    if (!tty || !confirm(zh ? "结束这个终端的 shell（及其中运行的程序），另开一个新的？" : "End this terminal's shell (and what runs in it) and start a new one?")) return;
    b.disabled = true;
    try {
      await tty.restart();
    } catch (e) {
      alert(e.message);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

// termOptions are the xterm.js options of every terminal on the site.
export const termOptions = {
  fontSize: 14,
  fontFamily: '"DejaVu Sans Mono", "Noto Sans Mono CJK SC", "WenQuanYi Micro Hei Mono", monospace',
  scrollback: 5000,
  theme: { background: "#101418" },
};
