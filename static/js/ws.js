// A WebSocket that reconnects by itself (exponential backoff with jitter) and queues
// outgoing frames while it is down. Tokens travel in frames, never in the URL.

export class ReconnectingSocket {
  /**
   * @param {string} path e.g. "/ws/youth"
   * @param {{onOpen: () => void, onFrame: (f: any) => void, onDown: () => void}} handlers
   */
  constructor(path, handlers) {
    this.url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
    this.handlers = handlers;
    this.attempt = 0;
    this.ws = null;
    this.stopped = false;
    this.connect();
    // Keep-alive pings, staggered so thousands of clients do not ping at once.
    const period = 20000 + Math.floor(Math.random() * 5000);
    this.pinger = setInterval(() => this.send({ type: "ping" }), period);
  }

  connect() {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => { this.attempt = 0; this.handlers.onOpen(); };
    ws.onmessage = (ev) => {
      let frame;
      try { frame = JSON.parse(ev.data); } catch { return; }
      this.handlers.onFrame(frame);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      this.handlers.onDown();
      const delay = Math.min(8000, 250 * 2 ** this.attempt) * (0.5 + Math.random());
      this.attempt += 1;
      setTimeout(() => this.connect(), delay);
    };
  }

  get open() { return this.ws !== null && this.ws.readyState === WebSocket.OPEN; }

  /** @param {object} frame */
  send(frame) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify({ v: 1, ...frame }));
    return true;
  }

  stop() {
    this.stopped = true;
    clearInterval(this.pinger);
    if (this.ws) this.ws.close();
  }
}

export function newCmid() {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Replace {name} placeholders in a translated string. */
export function fmt(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
}

const OSLO = new Intl.DateTimeFormat("nb-NO", { hour: "2-digit", minute: "2-digit", hourCycle: "h23",
                                                timeZone: "Europe/Oslo" });

/** A message time (seconds since the epoch) the Norwegian way, in Norway's time: "14.05". */
export function clock(ts) {
  if (!ts) return "";
  const parts = Object.fromEntries(OSLO.formatToParts(new Date(ts * 1000)).map((p) => [p.type, p.value]));
  return parts.hour + "." + parts.minute;
}
