// A Chrome DevTools Protocol session over the websocket Node's inspector serves: the least of
// RFC 6455 a CDP client needs (text frames, client-side masking). Node 20 has no WebSocket
// global, and node:inspector can only attach to its own process.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface CdpSession {
  call<T = Record<string, unknown>>(method: string, params?: object): Promise<T>;
  /** every event (`method`, `params`) */
  on(fn: (method: string, params: any) => void): void;
  close(): void;
}

/** Connect to `ws://127.0.0.1:PORT/ID` (loopback only: the inspector of a process we started). */
export function cdp_connect(url: string): Promise<CdpSession> {
  const u = new URL(url);
  if (u.protocol !== 'ws:' || (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost')) {
    return Promise.reject(new Error(`dmalab: refusing an inspector that is not on loopback: ${url}`));
  }
  return new Promise((resolve, reject) => {
    const sock: Socket = connect(Number(u.port), u.hostname);
    const pending = new Map<number, { res: (v: any) => void; rej: (e: Error) => void }>();
    const listeners: ((method: string, params: any) => void)[] = [];
    let buf = Buffer.alloc(0);
    let open = false;
    let parts: Buffer[] = [];
    let seq = 0;
    const fail = (e: Error) => {
      for (const p of pending.values()) p.rej(e);
      pending.clear();
      if (!open) reject(e);
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('inspector connection closed')));
    sock.on('connect', () => {
      sock.write(
        `GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    const send = (o: object) => {
      const p = Buffer.from(JSON.stringify(o));
      const mask = randomBytes(4);
      let h: Buffer;
      if (p.length < 126) h = Buffer.from([0x81, 0x80 | p.length]);
      else if (p.length < 65536) {
        h = Buffer.from([0x81, 0x80 | 126, 0, 0]);
        h.writeUInt16BE(p.length, 2);
      } else {
        h = Buffer.alloc(10);
        h[0] = 0x81;
        h[1] = 0x80 | 127;
        h.writeBigUInt64BE(BigInt(p.length), 2);
      }
      for (let i = 0; i < p.length; i++) p[i]! ^= mask[i & 3]!;
      sock.write(Buffer.concat([h, mask, p]));
    };
    const session: CdpSession = {
      call(method, params = {}) {
        const id = ++seq;
        return new Promise((res, rej) => {
          pending.set(id, { res, rej });
          send({ id, method, params });
        });
      },
      on: (fn) => listeners.push(fn),
      close: () => sock.destroy(),
    };
    const message = (m: { id?: number; method?: string; params?: unknown; result?: unknown; error?: { message: string } }) => {
      if (m.id !== undefined) {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error) p?.rej(new Error(`${m.error.message}`));
        else p?.res(m.result);
      } else if (m.method) for (const l of listeners) l(m.method, m.params);
    };
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!open) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        if (!/^HTTP\/1\.1 101/.test(head)) return fail(new Error(`inspector refused the websocket: ${head.split('\r\n')[0]}`));
        buf = buf.subarray(end + 4);
        open = true;
        resolve(session);
      }
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1]! & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        if (buf.length < off + len) return;
        const fin = (buf[0]! & 0x80) !== 0;
        const op = buf[0]! & 0x0f;
        const payload = buf.subarray(off, off + len);
        buf = buf.subarray(off + len);
        if (op === 8) return sock.destroy();
        if (op !== 0 && op !== 1) continue; // ping/pong/binary: the inspector sends none we need
        parts.push(payload);
        if (!fin) continue;
        const text = Buffer.concat(parts).toString('utf8');
        parts = [];
        message(JSON.parse(text));
      }
    });
  });
}
