// Open-loop HTTP load at a fixed rate, for latency at a given load.
//
// autocannon's rate option sends at full speed until the second's quota is used and then waits for the next second,
// so "half load" there is full load for half of each second, and its latencies have millisecond resolution. Here
// request i is due at start + i / rate whether or not earlier ones have answered (no coordinated omission: a new
// connection is opened rather than waiting for a busy one, so a stall shows up in the percentiles), arrivals are
// spread over the second (timers fire about every millisecond, so at most rate/1000 requests leave together), and
// latencies are kept in microseconds. Latency counts from when the request was written, or from when it was due if it
// had to wait for a connection; a timer that fires late delays the sending, which is the generator's lateness and
// not the server's.
//
// The generator shares the machine with what it measures, so it is kept cheap: each keep-alive connection sends one
// pre-serialised GET at a time and reads only the status line and Content-Length of the answer. Answers without a
// Content-Length (chunked) are refused as errors: the benchmark's upstream always sends one.
const net = require("node:net");

const now = () => Number(process.hrtime.bigint()) / 1e3; // µs
const HEADER_END = Buffer.from("\r\n\r\n");

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** One keep-alive connection that carries one request at a time. */
class Connection {
  constructor(host, port, onAnswer, onBroken) {
    this.busy = false;
    this.buf = Buffer.alloc(0);
    this.need = -1; // bytes of body still to skip, -1 while reading the head
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on("data", (chunk) => this.read(chunk));
    this.socket.on("error", () => undefined);
    this.socket.on("close", () => onBroken(this));
    this.onAnswer = onAnswer;
  }

  send(request, due) {
    this.busy = true;
    this.due = due;
    this.socket.write(request);
  }

  read(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.need < 0) {
        const end = this.buf.indexOf(HEADER_END);
        if (end < 0) return;
        const head = this.buf.toString("latin1", 0, end);
        const status = Number(head.slice(9, 12));
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (!m) {
          this.socket.destroy();
          return;
        }
        this.status = status;
        this.need = Number(m[1]);
        this.buf = this.buf.subarray(end + 4);
      }
      if (this.buf.length < this.need) return;
      this.buf = this.buf.subarray(this.need);
      this.need = -1;
      this.busy = false;
      this.onAnswer(this, this.status, this.due);
    }
  }
}

/**
 * A load target: keep-alive connections to `url` (opened as needed, at most `maxConnections`; beyond that, requests
 * wait, and the wait counts) that stay open from one `run` to the next, so that slices of load can alternate between
 * targets without paying for new connections each time.
 */
class Target {
  constructor({ url, headers = {}, maxConnections = 256 }) {
    this.url = new URL(url);
    const lines = [`GET ${this.url.pathname}${this.url.search} HTTP/1.1`, `host: ${this.url.host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    this.request = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
    this.maxConnections = maxConnections;
    this.idle = [];
    this.all = new Set();
    this.current = undefined; // the run in progress
  }

  /**
   * Sends `rate` requests per second for `seconds`. Resolves with the latencies in microseconds (one per request,
   * in completion order) and the count of errors.
   */
  run(rate, seconds) {
    const total = Math.max(1, Math.round(rate * seconds));
    const interval = 1e6 / rate;
    const latencies = new Float64Array(total);
    const waiting = []; // due times of requests that found no free connection
    let sent = 0;
    let done = 0;
    let errors = 0;
    return new Promise((resolve) => {
      const start = now();
      const record = (due, ok) => {
        if (!ok) errors++;
        latencies[done++] = now() - due;
        if (done === total) {
          this.current = undefined;
          resolve({ latencies, errors, seconds: (now() - start) / 1e6, connections: this.all.size });
        }
      };
      const dispatch = (due) => {
        const c = this.idle.pop() ?? (this.all.size < this.maxConnections ? new Connection(this.url.hostname, Number(this.url.port), (conn, status, d) => this.current.onAnswer(conn, status, d), (conn) => this.onBroken(conn)) : undefined);
        if (!c) return waiting.push(due);
        this.all.add(c);
        c.send(this.request, due);
      };
      this.current = {
        onAnswer: (c, status, due) => {
          record(due, status < 400);
          if (waiting.length) c.send(this.request, waiting.shift());
          else this.idle.push(c);
        },
        onBroken: (c) => {
          if (c.busy) record(c.due, false);
          if (waiting.length && done < total) dispatch(waiting.shift());
        },
      };
      const tick = () => {
        const t = now();
        while (sent < total && start + sent * interval <= t) {
          dispatch(t);
          sent++;
        }
        if (sent < total) setTimeout(tick, Math.max(0, (start + sent * interval - now()) / 1e3));
      };
      tick();
    });
  }

  onBroken(c) {
    this.all.delete(c);
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    this.current?.onBroken(c);
  }

  close() {
    for (const c of this.all) c.socket.destroy();
    this.all.clear();
    this.idle.length = 0;
  }
}

/** Latency percentiles in milliseconds of latencies in microseconds. */
function summarize(latencies) {
  const sorted = Float64Array.from(latencies).sort();
  const ms = (p) => percentile(sorted, p) / 1e3;
  return { requests: sorted.length, p50: ms(50), p90: ms(90), p99: ms(99), p999: ms(99.9), max: ms(100) };
}

module.exports = { Target, summarize };
