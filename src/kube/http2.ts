// The apiserver connection over HTTP/2, as client-go's: every request and watch of a client is a
// stream of one TLS connection. Against HTTP/1.1 over a pool of connections, the controller spends
// about a quarter less CPU on the same sync (node:http2's framing runs in native code; no agent,
// no per-socket parser; docs/performance.md, "Eighth round").
//
// The protocol is chosen by TLS ALPN when the connection opens: a server that does not offer h2
// (an HTTP/1.1-only proxy in front of the apiserver, say) is remembered and served by the client's
// HTTP/1.1 agent instead. A connection that stops answering is found by pings (client-go's
// ReadIdleTimeout 30 s and PingTimeout 15 s, and at once when a request is given up before its
// answer) and closed; a connection the server closes or sends GOAWAY on is replaced by a new one
// at the next request, while its open streams finish.
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { Readable } from 'node:stream';

/** TLS settings of the connection (the kubeconfig's). */
export interface Http2TlsOptions {
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  rejectUnauthorized: boolean;
  servername?: string | undefined;
}

/** An answer's status, headers and body, whichever protocol carried it. */
export interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

/** How often a connection is pinged, and how long a ping may go unanswered (client-go's values). */
export const PING_EVERY_MS = 30_000;
export const PING_TIMEOUT_MS = 15_000;

/**
 * Flow-control windows: how much the server may send before the client has read it. Node's
 * default (64 KiB per stream) would make a list of tens of megabytes wait for a window update every
 * 64 KiB; client-go's transport allows 4 MiB per stream and more per connection.
 */
const STREAM_WINDOW = 4 << 20;
const CONNECTION_WINDOW = 64 << 20;

export class Http2Connection {
  private readonly origin: URL;
  private readonly tlsOptions: Http2TlsOptions;
  private readonly pingEveryMs: number;
  private readonly pingTimeoutMs: number;
  private session: http2.ClientHttp2Session | undefined;
  private connecting: Promise<http2.ClientHttp2Session | undefined> | undefined;
  /** The server chose HTTP/1.1 by ALPN: it is not asked again. */
  private http1Only = false;
  private closed = false;

  constructor(origin: URL, tlsOptions: Http2TlsOptions, timing: { pingEveryMs?: number; pingTimeoutMs?: number } = {}) {
    this.origin = origin;
    this.tlsOptions = tlsOptions;
    this.pingEveryMs = timing.pingEveryMs ?? PING_EVERY_MS;
    this.pingTimeoutMs = timing.pingTimeoutMs ?? PING_TIMEOUT_MS;
  }

  /** False once the server has answered ALPN with HTTP/1.1: the caller uses HTTP/1.1 instead. */
  get usable(): boolean {
    return !this.http1Only && !this.closed;
  }

  /**
   * Sends a request as a stream of the connection (opened or replaced as needed) and resolves at
   * its answer's headers; undefined when the server does not speak HTTP/2. The signal aborts the
   * stream (and only it), before or after the answer began.
   */
  async request(method: string, pathAndQuery: string, headers: Record<string, string | number>, payload: string | undefined, signal: AbortSignal | undefined): Promise<Answer | undefined> {
    for (let attempt = 0; ; attempt++) {
      const session = await this.sessionFor(signal);
      if (!session) return undefined;
      signal?.throwIfAborted();
      let stream: http2.ClientHttp2Stream;
      try {
        const h: http2.OutgoingHttpHeaders = { ':method': method, ':path': pathAndQuery };
        for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = v;
        stream = session.request(h, { endStream: payload === undefined, ...(signal ? { signal } : {}) });
      } catch (e) {
        // The session closed or received GOAWAY between the lookup and the request (or ran out of
        // stream ids): a new connection takes it, once.
        this.forget(session);
        if (attempt === 0) continue;
        throw e;
      }
      return await this.answerOf(session, stream, payload, signal);
    }
  }

  private answerOf(session: http2.ClientHttp2Session, stream: http2.ClientHttp2Stream, payload: string | undefined, signal: AbortSignal | undefined): Promise<Answer> {
    this.streamOpened(session);
    let answered = false;
    stream.once('close', () => {
      this.streamClosed(session);
      // A request given up before its answer (its deadline, mostly) may be the first sign of a
      // dead connection: ask at once rather than at the next scheduled ping.
      if (!answered) this.ping(session);
    });
    return new Promise<Answer>((resolve, reject) => {
      // Kept for the stream's life: an error after the answer began reaches whoever reads the
      // body too, and a stream never emits 'error' to no listener (which would end the process).
      stream.on('error', (e) => reject(signal?.aborted ? signal.reason : e));
      stream.once('response', (h) => {
        answered = true;
        const { ':status': status, ...rest } = h;
        resolve({ statusCode: Number(status ?? 0), headers: rest as Answer['headers'], body: stream });
      });
      if (payload !== undefined) stream.end(payload);
    });
  }

  /** Streams open on the current connection (requests waiting for or reading their answer, watches). */
  get openStreams(): number {
    return this.session ? (this.streams.get(this.session) ?? 0) : 0;
  }

  /** Closes the connection; its streams are destroyed. */
  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
  }

  // ---------------------------------------------------------------------------------------------

  /** Open streams per session: a session with none does not keep the process alive (as an idle agent socket). */
  private readonly streams = new WeakMap<http2.ClientHttp2Session, number>();

  private streamOpened(session: http2.ClientHttp2Session): void {
    const n = (this.streams.get(session) ?? 0) + 1;
    this.streams.set(session, n);
    if (n === 1 && !session.destroyed) session.ref();
  }

  private streamClosed(session: http2.ClientHttp2Session): void {
    const n = (this.streams.get(session) ?? 1) - 1;
    this.streams.set(session, n);
    if (n === 0 && !session.destroyed) session.unref();
  }

  private forget(session: http2.ClientHttp2Session): void {
    if (this.session === session) this.session = undefined;
  }

  private async sessionFor(signal: AbortSignal | undefined): Promise<http2.ClientHttp2Session | undefined> {
    if (this.closed) throw new Error('the apiserver client is closed');
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return s;
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    if (!signal) return this.connecting;
    signal.throwIfAborted();
    let onAbort!: () => void;
    const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', (onAbort = () => reject(signal.reason)), { once: true }));
    try {
      return await Promise.race([this.connecting, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Opens a TLS connection offering h2 and HTTP/1.1; an HTTP/2 session on it if the server chose h2. */
  private async connect(): Promise<http2.ClientHttp2Session | undefined> {
    const host = this.origin.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(this.origin.port || 443);
    const { servername, ...rest } = this.tlsOptions;
    const socket = tls.connect({ host, port, ...rest, servername: servername ?? (net.isIP(host) ? undefined : host), ALPNProtocols: ['h2', 'http/1.1'] });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    if (socket.alpnProtocol !== 'h2') {
      socket.destroy();
      this.http1Only = true;
      return undefined;
    }
    if (this.closed) {
      socket.destroy();
      throw new Error('the apiserver client is closed');
    }
    const session = http2.connect(this.origin, {
      createConnection: () => socket,
      settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
      maxSessionMemory: 64,
    });
    session.setLocalWindowSize(CONNECTION_WINDOW);
    // A connection error reaches the streams; the session itself only needs replacing.
    session.on('error', () => this.forget(session));
    session.on('goaway', () => this.forget(session));
    session.on('close', () => {
      this.forget(session);
      clearInterval(pinger);
    });
    const pinger = setInterval(() => this.ping(session), this.pingEveryMs);
    pinger.unref();
    session.unref();
    this.session = session;
    return session;
  }

  /** A ping not answered in time closes the session: its streams fail, the next request reconnects. */
  private ping(session: http2.ClientHttp2Session): void {
    if (session.closed || session.destroyed || this.pinging.has(session)) return;
    this.pinging.add(session);
    const answered = () => {
      clearTimeout(timer);
      this.pinging.delete(session);
    };
    const timer = setTimeout(() => {
      this.pinging.delete(session);
      session.destroy(new Error(`the apiserver did not answer an HTTP/2 ping within ${Math.round(this.pingTimeoutMs / 1000)} s`));
    }, this.pingTimeoutMs);
    timer.unref();
    try {
      session.ping(answered);
    } catch {
      answered();
    }
  }

  /** Sessions with a ping in flight: one at a time each. */
  private readonly pinging = new WeakSet<http2.ClientHttp2Session>();
}
