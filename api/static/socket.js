// One WebSocket to the gateway that comes back by itself: reconnects with capped, jittered
// exponential backoff, so a restarted gateway is not hit by every page at the same instant.
// The server sends the game's current state on every connect, which is how the page resumes.

export const BACKOFF = { firstMs: 500, factor: 2, maxMs: 10_000 };

// The server refused the seat or a frame (docs/gateway.md): trying again cannot help.
const FINAL_CLOSES = {
  4400: "the server refused a frame", 4401: "wrong or missing join token", 4404: "no such seat",
};

/** The wait before reconnection attempt `attempt` (0-based): half fixed, half random, capped. */
export function backoffMs(attempt, random = Math.random) {
  const ceiling = Math.min(BACKOFF.maxMs, BACKOFF.firstMs * BACKOFF.factor ** attempt);
  return ceiling / 2 + (random() * ceiling) / 2;
}

export class GameSocket {
  /**
   * `onFrame(object)` gets each JSON frame; `onLink({state, detail})` each change of the
   * connection: state is "connecting", "up", "retry" or "closed".
   */
  constructor(url, { onFrame, onLink, onDrop }) {
    this.url = url;
    this.onFrame = onFrame;
    this.onLink = onLink;
    this.onDrop = onDrop ?? (() => {});
    this.attempt = 0;
    this.ws = null;
    this.timer = null;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.connect();
    return this;
  }

  /** Send `frame` as JSON; false when there is no open connection to send it on. */
  send(frame) {
    if (this.ws === null || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Close for good (leaving the screen). */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws !== null) this.ws.close(1000, "leaving");
    this.ws = null;
  }

  connect() {
    this.onLink({ state: "connecting", detail: this.attempt ? `reconnecting (attempt ${this.attempt + 1})` : "connecting" });
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => this.onLink({ state: "up", detail: "connected" });
    ws.onmessage = (event) => {
      this.attempt = 0; // the server is answering: the next drop starts the backoff afresh
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return; // not ours to show; the server only sends JSON
      }
      this.onFrame(frame);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws || this.stopped) return;
      this.ws = null;
      this.onDrop();
      const final = FINAL_CLOSES[event.code];
      if (final !== undefined) {
        this.onLink({ state: "closed", detail: event.reason || final, code: event.code });
        return;
      }
      this.retry(event.reason || (event.code === 1006 ? "connection lost" : `closed (${event.code})`));
    };
  }

  retry(why) {
    const waitMs = backoffMs(this.attempt);
    this.attempt += 1;
    const until = performance.now() + waitMs;
    const tick = () => {
      const left = Math.max(0, until - performance.now());
      this.onLink({ state: "retry", detail: `${why}: retrying in ${(left / 1000).toFixed(1)} s` });
      if (left <= 0) this.connect();
      else this.timer = setTimeout(tick, Math.min(left, 250));
    };
    tick();
  }
}
