// The browser view's server (grader/web/server.ts): its handlers against a hub that stands in for
// the watcher, over real loopback HTTP. Host and Origin checks (DNS rebinding), nothing served
// but the course's pages, the hint POST, the SSE stream and its pushes, the remembered port.
import { request } from 'node:http';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../course.ts';
import { allowed_origin, loopback_host, remember_port, remembered_port, WebServer } from '../web/server.ts';

let hints = 0;
let state: Record<string, unknown> = { status: 'checking…', hint: null };
const server = new WebServer({
  root: REPO_ROOT,
  state: () => state,
  current_lesson: () => 'lessons/04-streaming-dma.md',
  hint: () => {
    hints++;
    state = { ...state, hint: { n: hints, of: 3, html: '<p>look</p>' } };
  },
});
let port = 0;

interface Res { status: number; headers: Record<string, string | string[] | undefined>; body: string }
function http(path: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: { Host: `127.0.0.1:${port}`, ...o.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

beforeAll(async () => {
  port = await server.listen(0);
});
afterAll(() => server.close());

describe('web server: who may ask', () => {
  test('Host must be this loopback address and port: a rebound name or another port is refused', async () => {
    expect((await http('/api/state')).status).toBe(200);
    expect((await http('/api/state', { headers: { Host: `localhost:${port}` } })).status).toBe(200);
    expect((await http('/api/state', { headers: { Host: `[::1]:${port}` } })).status).toBe(200);
    const evil = await http('/api/state', { headers: { Host: `attacker.example:${port}` } });
    expect(evil.status).toBe(403);
    expect(evil.body).toContain('not loopback');
    expect((await http('/api/state', { headers: { Host: `127.0.0.1:${port + 1}` } })).status).toBe(403);
    expect((await http('/', { headers: { Host: '127.0.0.1.attacker.example' } })).status).toBe(403);
  });

  test('an Origin, when sent, must be this page', async () => {
    expect((await http('/api/state', { headers: { Origin: `http://127.0.0.1:${port}` } })).status).toBe(200);
    expect((await http('/api/state', { headers: { Origin: 'http://attacker.example' } })).status).toBe(403);
    expect((await http('/api/state', { headers: { Origin: 'null' } })).status).toBe(403);
    expect(allowed_origin(undefined, port)).toBe(true);
    expect(allowed_origin(`https://127.0.0.1:${port}`, port)).toBe(false);
    expect(loopback_host('localhost', 80)).toBe(true);
    expect(loopback_host('localhost.', port)).toBe(false);
  });

  test('a hint is a POST with a JSON body from this page: it asks the watcher once, and returns the state', async () => {
    const before = hints;
    expect((await http('/api/hint', { method: 'POST', body: 'x' })).status).toBe(403); // a plain form post
    expect((await http('/api/hint', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Sec-Fetch-Site': 'cross-site' }, body: '{}' })).status).toBe(403);
    expect(hints).toBe(before);
    const r = await http('/api/hint', { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: `http://127.0.0.1:${port}` }, body: '{}' });
    expect(r.status).toBe(200);
    expect(hints).toBe(before + 1);
    expect(JSON.parse(r.body).hint).toEqual({ n: before + 1, of: 3, html: '<p>look</p>' });
  });

  test('other methods are refused', async () => {
    expect((await http('/api/state', { method: 'PUT' })).status).toBe(405);
    expect((await http('/api/state', { method: 'DELETE' })).status).toBe(405);
  });
});

describe('web server: what it serves', () => {
  test('nothing outside the course: no path from the request reaches the disk', async () => {
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/lessons/04-streaming-dma.md', '/04-streaming-dma.md', '/grader/cli.ts', '/.dmalab/progress.json', '/assets/../package.json', '/etc/passwd']) {
      const r = await http(p);
      expect(r.status, p).toBe(404);
      expect(r.body).not.toContain('"name": "dmalab"');
    }
  });

  test('/ sends the page to the current exercise\'s lesson; lesson pages have the TOC, previous/next, colours and cross-links', async () => {
    const root = await http('/');
    expect(root.status).toBe(302);
    expect(root.headers.location).toBe('/04-streaming-dma.html');
    const r = await http('/04-streaming-dma.html');
    expect(r.status).toBe(200);
    expect(r.headers['content-security-policy']).toContain("default-src 'self'");
    expect(r.body).toContain('<nav id="toc">');
    expect(r.body).toContain('<li class="current"><a href="04-streaming-dma.html">');
    expect(r.body).toContain('rel="prev" href="03-coherent-dma.html"');
    expect(r.body).toContain('rel="next" href="05-sync-and-ownership.html"');
    expect(r.body).toMatch(/<pre class="hljs"><code class="language-typescript">.*<span class="hljs-keyword">/s);
    expect(r.body).toContain('<h2 id="unmapping">');
    // "lesson 01 § "When probe fails"" is a link to that section
    expect(r.body).toContain('<a href="01-mmio-and-probe.html#when-probe-fails" class="xref">');
    // no CDN: every script and stylesheet is this server's
    expect(r.body).not.toMatch(/(src|href)="(https?:)?\/\/(?!127\.0\.0\.1)/);
    expect(r.body).toContain('<script src="assets/app.js">');
    expect((await http('/index.html')).body).toContain('href="10-nic-rings.html"');
  });

  test('the assets: the page script (bundled, no imports left) and the stylesheet with highlight.js\'s colours', async () => {
    const js = await http('/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toContain('text/javascript');
    expect(js.body).toContain('EventSource');
    expect(js.body).not.toMatch(/^\s*import /m);
    const css = await http('/assets/style.css');
    expect(css.body).toContain('.hljs-keyword');
    expect(css.body).toContain('#timeline');
  });

  test('the event stream: the state at once, then each change, once; a reconnecting page is told to retry soon', async () => {
    const got: string[] = [];
    let res!: import('node:http').IncomingMessage;
    await new Promise<void>((resolve) => {
      request({ host: '127.0.0.1', port, path: '/events', headers: { Host: `127.0.0.1:${port}` } }, (r) => {
        res = r;
        r.setEncoding('utf8');
        r.on('data', (d: string) => {
          got.push(d);
          resolve();
        });
      }).end();
    });
    expect(res.headers['content-type']).toContain('text/event-stream');
    const until = async (n: number) => {
      for (let i = 0; i < 100 && got.join('').split('event: state').length - 1 < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    await until(1);
    expect(got.join('')).toContain('retry: 500');
    state = { ...state, status: 'graded in 80 ms' };
    server.update();
    server.update(); // nothing new: not sent again
    await until(2);
    await new Promise((r) => setTimeout(r, 50));
    const frames = got.join('').split('\n\n').filter((f) => f.startsWith('event: state'));
    expect(frames).toHaveLength(2);
    expect(JSON.parse(frames[1]!.split('data: ')[1]!).status).toBe('graded in 80 ms');
    res.destroy();
  });
});

describe('web server: ports', () => {
  test('a port taken by another program: it falls back to a free one', async () => {
    const blocker = createServer();
    const taken = await new Promise<number>((r) => blocker.listen(0, '127.0.0.1', () => r((blocker.address() as { port: number }).port)));
    const s = new WebServer({ root: REPO_ROOT, state: () => ({}), current_lesson: () => '', hint: () => {} });
    try {
      const p = await s.listen(taken);
      expect(p).not.toBe(taken);
      expect(p).toBeGreaterThan(0);
      expect(s.url).toBe(`http://127.0.0.1:${p}/`);
    } finally {
      await s.close();
      blocker.close();
    }
  });

  test('the port is remembered in .dmalab/web.json, so a reopened tab finds the watcher', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmalab-web-'));
    try {
      expect(remembered_port(dir)).toBeUndefined();
      remember_port(dir, 5757);
      expect(remembered_port(dir)).toBe(5757);
      expect(JSON.parse(readFileSync(join(dir, '.dmalab', 'web.json'), 'utf8')).url).toBe('http://127.0.0.1:5757/');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
