// A browser terminal: xterm.js on a WebSocket that speaks terminado's protocol
// (["stdin", text] and ["set_size", rows, cols] out; ["stdout", text] and
// ["disconnect", reason] in). Loaded on demand by pod.js.
import { Terminal } from "/vendor/xterm/lib/xterm.mjs";
import { FitAddon } from "/vendor/xterm-addon-fit/lib/addon-fit.mjs";
import { apiKey } from "/static/app.js";

export function terminalUrl(pod, kind) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws/terminal/${encodeURIComponent(pod)}?kind=${encodeURIComponent(kind)}`;
}

export class TerminalView {
  /** `onState(state, detail)` hears "connecting", "connected" and "disconnected". */
  constructor(box, onState) {
    this.box = box;
    this.onState = onState;
    this.ws = null;
    this.term = new Terminal({
      cursorBlink: true,
      fontSize: 13,
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace',
      scrollback: 5000,
    });
    this.fitter = new FitAddon();
    this.term.loadAddon(this.fitter);
    this.term.open(box);
    this.term.onData((data) => this.send(["stdin", data]));
    this.term.onResize(() => this.sendSize());
    let pending = false;
    new ResizeObserver(() => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; this.fit(); });
    }).observe(box);
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** Tell the server the size, once per change and connection. */
  sendSize() {
    const size = `${this.term.rows}x${this.term.cols}`;
    if (size === this.sentSize || !this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    this.sentSize = size;
    this.send(["set_size", this.term.rows, this.term.cols]);
  }

  /** Fit the terminal to its box (only while the box is shown). */
  fit() {
    if (this.box.clientWidth > 0 && this.box.clientHeight > 0) this.fitter.fit();
  }

  connect(url) {
    this.close();
    this.term.reset();
    // a browser cannot add a header to a WebSocket: the session's key rides as a
    // second subprotocol, and the server answers "devaipod"
    const ws = new WebSocket(url, ["devaipod", `key.${apiKey()}`]);
    let reason = "";
    this.ws = ws;
    this.onState("connecting", "");
    ws.addEventListener("open", () => {
      this.sentSize = null;
      this.fit();
      this.sendSize();
      this.onState("connected", "");
      this.term.focus();
    });
    ws.addEventListener("message", (ev) => {
      let message;
      try {
        message = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (message[0] === "stdout") this.term.write(message[1]);
      else if (message[0] === "disconnect") reason = String(message[1] || "");
    });
    ws.addEventListener("close", (ev) => {
      if (this.ws !== ws) return; // replaced by a newer connection
      this.ws = null;
      reason = reason || ev.reason || (ev.code === 1006 ? "the connection was refused or lost" : "");
      this.term.write(`\r\n\x1b[2m[disconnected${reason ? `: ${reason}` : ""}]\x1b[0m\r\n`);
      this.onState("disconnected", reason);
    });
  }

  close() {
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
  }

  focus() {
    this.term.focus();
  }
}
