// The course in a browser (`npm start -- --web`): a small HTTP server on loopback that serves the
// lessons (grader/web/render.ts), the page's script and stylesheet, the watcher's state, and
// pushes every change of it (a verdict, "checking…", a hint) as Server-Sent Events.
//
// Why SSE and not a WebSocket: the page only listens (a hint is one POST), EventSource is in every
// browser and reconnects by itself when the watcher restarts (`retry:`), and it is plain HTTP
// on node's own http module: no dependency, no framing code.
//
// Security: it listens on 127.0.0.1 only; it answers only requests whose Host (and Origin, when
// sent) is this loopback address and port, so a page on another site cannot reach it through DNS
// rebinding; it serves only the pages it renders and two built assets, never a path from the
// request; its one write is the hints-seen record (through the watcher, in .dmalab/progress.json).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { highlight_css, index_body, LESSON_CSS, list_lessons, page_html, render_lesson_html, type LessonInfo } from './render.ts';
import { APP_CSS } from './style.ts';

export interface WebHub {
  /** the course root (lessons/ is under it) */
  root: string;
  /** what the page shows: the current exercise, its verdict, the hint shown; plain data */
  state(): object;
  /** the lesson of the current exercise ('lessons/04-streaming-dma.md') */
  current_lesson(): string;
  /** the learner asked for a hint (the watcher records it as seen and publishes the state) */
  hint(): void;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const LOOPBACK = /^(127\.0\.0\.1|localhost|\[::1\])(?::(\d+))?$/i;

/** Is this Host (or Origin's host) this server's, on loopback? */
export function loopback_host(host: string | undefined, port: number): boolean {
  const m = LOOPBACK.exec(host ?? '');
  return !!m && Number(m[2] ?? 80) === port;
}

export function allowed_origin(origin: string | undefined, port: number): boolean {
  if (origin === undefined) return true;
  const m = /^http:\/\/([^/]+)$/.exec(origin);
  return !!m && loopback_host(m[1], port);
}

let app_js: string | undefined;
/** The page's script, bundled once from grader/web/client/ with esbuild (already a dependency). */
async function bundle(): Promise<string> {
  if (app_js) return app_js;
  const { build } = await import('esbuild');
  const r = await build({ entryPoints: [join(HERE, 'client', 'app.ts')], bundle: true, write: false, format: 'iife', target: 'es2020', minify: false, logLevel: 'silent' });
  return (app_js = r.outputFiles[0]!.text);
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'Cache-Control': 'no-store',
};

export class WebServer {
  readonly clients = new Set<ServerResponse>();
  private server: Server | undefined;
  port = 0;
  private last = '';
  private seq = 0;
  private lessons_cache: { key: string; list: LessonInfo[] } | undefined;
  private beat: NodeJS.Timeout | undefined;

  constructor(readonly hub: WebHub) {}

  /** The lessons, re-read when a lesson file changes (the author edits them while it runs). */
  lessons(): LessonInfo[] {
    const dir = join(this.hub.root, 'lessons');
    let key = '';
    try {
      key = String(statSync(dir).mtimeMs);
      for (const l of this.lessons_cache?.list ?? []) key += ':' + statSync(join(dir, l.md)).mtimeMs;
    } catch {
      key = String(Math.random());
    }
    if (this.lessons_cache?.key !== key) this.lessons_cache = { key, list: list_lessons(this.hub.root) };
    return this.lessons_cache.list;
  }

  /** Answers one request (exported for the handlers' tests). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (code: number, type: string, body: string, extra: Record<string, string> = {}) => {
      res.writeHead(code, { 'Content-Type': type, ...SECURITY_HEADERS, ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (!loopback_host(req.headers.host, this.port) || !allowed_origin(req.headers.origin, this.port)) {
      return send(403, 'text/plain; charset=utf-8', 'dmalab: only pages on this machine may use the grader (Host or Origin is not loopback)\n');
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    if (req.method === 'POST') {
      // A JSON content type makes a browser on another origin ask first (CORS preflight), which
      // this server never grants; Sec-Fetch-Site says the same where the browser sends it.
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '') || (req.headers['sec-fetch-site'] && req.headers['sec-fetch-site'] !== 'same-origin')) {
        return send(403, 'text/plain; charset=utf-8', 'dmalab: not from this page\n');
      }
      if (path === '/api/hint') {
        req.resume();
        this.hub.hint();
        return send(200, 'application/json', JSON.stringify(this.hub.state()));
      }
      return send(404, 'text/plain; charset=utf-8', 'not found\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain; charset=utf-8', 'method not allowed\n', { Allow: 'GET, HEAD, POST' });
    if (path === '/events') return this.subscribe(req, res);
    if (path === '/api/state') return send(200, 'application/json', JSON.stringify(this.hub.state()));
    if (path === '/assets/app.js') return send(200, 'text/javascript; charset=utf-8', await bundle());
    if (path === '/assets/style.css') return send(200, 'text/css; charset=utf-8', `${LESSON_CSS}\n${highlight_css()}\n${APP_CSS}`);
    const lessons = this.lessons();
    if (path === '/') {
      const cur = lessons.find((l) => `lessons/${l.md}` === this.hub.current_lesson().split('#')[0]);
      return send(302, 'text/plain; charset=utf-8', '', { Location: `/${cur?.html ?? 'index.html'}` });
    }
    if (path === '/index.html') return send(200, 'text/html; charset=utf-8', page_html(lessons, index_body(lessons), { app: true }));
    const l = lessons.find((x) => `/${x.html}` === path);
    if (l) return send(200, 'text/html; charset=utf-8', page_html(lessons, render_lesson_html(this.hub.root, lessons, l, { kind: 'app' }), { app: true }));
    return send(404, 'text/plain; charset=utf-8', 'dmalab: no such page in this course\n');
  }

  private subscribe(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', ...SECURITY_HEADERS });
    res.socket?.setNoDelay(true);
    // A restarted watcher is found again within half a second.
    res.write(`retry: 500\n\n`);
    res.write(this.frame('state', this.state_json()));
    this.clients.add(res);
    req.on('close', () => this.clients.delete(res));
  }

  private frame(event: string, json: string): string {
    return `event: ${event}\nid: ${this.seq}\ndata: ${json}\n\n`;
  }

  private state_json(): string {
    return JSON.stringify({ ...this.hub.state(), seq: this.seq, sent_at: Date.now() });
  }

  /** The hub's state changed (maybe): push it to every page if it did. */
  update(): void {
    const s = JSON.stringify(this.hub.state());
    if (s === this.last) return;
    this.last = s;
    this.seq++;
    if (!this.clients.size) return;
    const f = this.frame('state', this.state_json());
    for (const c of this.clients) c.write(f);
  }

  /** Listen on 127.0.0.1: `port`, or any free port when it is taken (0: any). */
  async listen(port: number): Promise<number> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`dmalab: ${(e as Error)?.message ?? e}\n`);
      });
    });
    const on = (p: number) => new Promise<number>((resolve, reject) => {
      const fail = (e: Error) => reject(e);
      server.once('error', fail);
      server.listen(p, '127.0.0.1', () => {
        server.off('error', fail);
        resolve((server.address() as { port: number }).port);
      });
    });
    try {
      this.port = await on(port);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw e;
      this.port = await on(0);
    }
    this.server = server;
    // A comment now and then keeps proxies and sleeping laptops from dropping the stream.
    this.beat = setInterval(() => { for (const c of this.clients) c.write(': beat\n\n'); }, 15_000);
    this.beat.unref();
    return this.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  async close(): Promise<void> {
    if (this.beat) clearInterval(this.beat);
    for (const c of this.clients) c.end();
    this.clients.clear();
    const s = this.server;
    if (!s) return;
    s.closeAllConnections?.();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

/** The port the page was last served on (.dmalab/web.json), so a reopened tab finds the watcher. */
export function remembered_port(root: string): number | undefined {
  try {
    const j = JSON.parse(readFileSync(join(root, '.dmalab', 'web.json'), 'utf8')) as { port?: number };
    return Number.isInteger(j.port) && j.port! > 0 && j.port! < 65536 ? j.port : undefined;
  } catch {
    return undefined;
  }
}

/** The default port; taken, the server falls back to a free one (the URL printed says which). */
export const DEFAULT_PORT = 5757;

export function remember_port(root: string, port: number): void {
  const dir = join(root, '.dmalab');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'web.json'), JSON.stringify({ url: `http://127.0.0.1:${port}/`, port }, null, 2) + '\n');
}
