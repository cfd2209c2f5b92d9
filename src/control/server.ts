/** UNIX-socket control server (see protocol.ts). Bad requests get an error line, never a crash. */
import net from 'node:net';
import { mkdirSync, rmSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Gateway } from '../runtime/gateway.js';
import type { ControlResponse } from './protocol.js';

const MAX_LINE = 64 * 1024;

export class ControlServer {
  private server: net.Server | undefined;
  constructor(private readonly gw: Gateway, private readonly path: string) {}

  async start(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true });
    rmSync(this.path, { force: true });
    this.server = net.createServer((sock) => this.onConn(sock));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen on control socket ${this.path}: ${e.code ?? e.message}`)));
      this.server!.listen(this.path, () => resolve());
    });
    chmodSync(this.path, 0o600);
  }

  private onConn(sock: net.Socket): void {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => sock.destroy());
    sock.on('data', (d: string) => {
      buf += d;
      if (buf.length > MAX_LINE) {
        sock.end(JSON.stringify({ ok: false, error: 'request too long' }) + '\n');
        return;
      }
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        sock.write(JSON.stringify(this.handle(line)) + '\n');
      }
    });
  }

  handle(line: string): ControlResponse {
    let req: { cmd?: unknown; name?: unknown };
    try {
      req = JSON.parse(line);
    } catch {
      return { ok: false, error: 'request is not JSON' };
    }
    if (typeof req !== 'object' || req === null) return { ok: false, error: 'request must be an object' };
    switch (req.cmd) {
      case 'status':
        return { ok: true, result: this.gw.status() };
      case 'up':
      case 'down': {
        if (typeof req.name !== 'string') return { ok: false, error: `${req.cmd} needs a connection name` };
        const ok = req.cmd === 'up' ? this.gw.up(req.name) : this.gw.down(req.name);
        return ok ? { ok: true, result: `${req.cmd} ${req.name}` } : { ok: false, error: `no connection named ${req.name}` };
      }
      default:
        return { ok: false, error: `unknown command ${String(req.cmd)}` };
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    rmSync(this.path, { force: true });
  }
}
