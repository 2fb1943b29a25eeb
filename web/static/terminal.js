// The Terminal tab: xterm.js on a WebSocket that speaks terminado's protocol
// (["stdin", text] and ["set_size", rows, cols] out; ["stdout", text] and
// ["disconnect", reason] in). xterm.js and its stylesheet load with the tab.
import { $, apiKey, setText } from "/static/app.js";

const XTERM = ["/vendor/xterm/lib/xterm.mjs", "/vendor/xterm-addon-fit/lib/addon-fit.mjs"];
const XTERM_CSS = "/vendor/xterm/css/xterm.css";

let pod = null;
let view = null; // a TerminalView, once xterm.js loaded

function terminalUrl(kind) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws/terminal/${encodeURIComponent(pod)}?kind=${encodeURIComponent(kind)}`;
}

function onState(state, detail) {
  const status = $("terminal-status");
  setText(status, { connecting: "connecting…", connected: "connected", disconnected: "disconnected —" }[state]);
  status.title = detail || "";
  $("terminal-reconnect").hidden = state !== "disconnected";
  $("terminal").dataset.state = state;
}

function connect() {
  view?.connect(terminalUrl($("terminal-kind").value));
}

function stylesheet(href) {
  return new Promise((resolve, reject) => {
    const link = Object.assign(document.createElement("link"), { rel: "stylesheet", href });
    link.addEventListener("load", resolve);
    link.addEventListener("error", () => reject(new Error(`${href} did not load`)));
    document.head.append(link);
  });
}

/** The first showing loads xterm.js and connects; later ones fit the terminal to its box. */
export async function show(name) {
  if (pod) {
    view?.fit();
    view?.focus();
    return;
  }
  pod = name;
  $("terminal-kind").addEventListener("change", connect);
  $("terminal-reconnect").addEventListener("click", connect);
  try {
    const [xterm, fit] = await Promise.all([...XTERM.map((url) => import(url)), stylesheet(XTERM_CSS)]);
    view = new TerminalView($("terminal"), xterm.Terminal, fit.FitAddon, onState);
    connect();
  } catch (err) {
    setText($("terminal-status"), `The terminal cannot load (is xterm.js installed? make web): ${err.message}`);
  }
}

class TerminalView {
  /** xterm.js's Terminal and FitAddon in `box`; `onState(state, detail)` hears
   * "connecting", "connected" and "disconnected". */
  constructor(box, Terminal, FitAddon, onState) {
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
