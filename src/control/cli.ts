#!/usr/bin/env node
/**
 * ikegwctl: talk to a running ikegw.
 *   ikegwctl [-s SOCKET] status [--json]      connections, IKE and CHILD SAs
 *   ikegwctl [-s SOCKET] up|down NAME
 */
import net from 'node:net';

const DEFAULT_SOCKET = '/run/ikegw/ikegw.sock';

export async function request(socket: string, req: object, timeoutMs = 5000): Promise<{ ok: boolean; result?: unknown; error?: string }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socket);
    let buf = '';
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer from ${socket} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      reject(new Error(`cannot reach ikegw at ${socket}: ${e.code ?? e.message} (is the daemon running? use -s to pick the socket)`));
    });
    s.on('connect', () => s.write(JSON.stringify({ v: 1, ...req }) + '\n'));
    s.on('data', (d) => {
      buf += d.toString('utf8');
      const i = buf.indexOf('\n');
      if (i >= 0) {
        clearTimeout(t);
        s.end();
        try {
          resolve(JSON.parse(buf.slice(0, i)));
        } catch {
          reject(new Error('garbled answer from ikegw'));
        }
      }
    });
  });
}

interface StatusResult {
  connections: { name: string; state: string; wanted: boolean }[];
  sas: { ike: Record<string, unknown> & { connection: string; state: string; spiI: string; spiR: string; encr: string; integ: string | null; prf: string; ke: string; local: { address: string; port: number }; remote: { address: string; port: number }; natLocal: boolean; natRemote: boolean }; children: (Record<string, unknown> & { spiIn: string; spiOut: string; encr: string; integ: string | null; localTs: string[]; remoteTs: string[]; encap: boolean })[] }[];
}

export function formatStatus(r: StatusResult): string {
  const lines: string[] = [];
  for (const c of r.connections) lines.push(`${c.name}: ${c.state.toUpperCase()}`);
  for (const { ike, children } of r.sas) {
    lines.push(
      `  ${ike.connection}[${ike.ikeId}]: ${ike.state.toUpperCase()} ${ike.local.address}:${ike.local.port} <-> ${ike.remote.address}:${ike.remote.port} spis ${ike.spiI}_i ${ike.spiR}_r` +
        ` ${ike.encr}${ike.integ ? '/' + ike.integ : ''}/${ike.prf}/${ike.ke}${ike.natLocal ? ' nat-local' : ''}${ike.natRemote ? ' nat-remote' : ''}`,
    );
    for (const ch of children)
      lines.push(`    child ${ch.childId}: INSTALLED ${ch.encap ? 'UDP_ENCAP ' : ''}spi-in ${ch.spiIn} spi-out ${ch.spiOut} ${ch.encr}${ch.integ ? '/' + ch.integ : ''} ${ch.localTs.join(',')} === ${ch.remoteTs.join(',')}`);
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  let socket = process.env['IKEGW_SOCKET'] ?? DEFAULT_SOCKET;
  const args: string[] = [];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-s' || a === '--socket') socket = argv[++i] ?? socket;
    else if (a === '--json') json = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: ikegwctl [-s SOCKET] status [--json] | up NAME | down NAME');
      return 0;
    } else args.push(a);
  }
  const [cmd, name] = args;
  if (!cmd || !['status', 'up', 'down'].includes(cmd)) {
    console.error('usage: ikegwctl [-s SOCKET] status [--json] | up NAME | down NAME');
    return 2;
  }
  if ((cmd === 'up' || cmd === 'down') && !name) {
    console.error(`ikegwctl ${cmd}: connection name missing`);
    return 2;
  }
  try {
    const res = await request(socket, cmd === 'status' ? { cmd } : { cmd, name });
    if (!res.ok) {
      console.error(`ikegwctl: ${res.error}`);
      return 1;
    }
    if (cmd === 'status') console.log(json ? JSON.stringify(res.result, null, 2) : formatStatus(res.result as StatusResult));
    else console.log(String(res.result));
    return 0;
  } catch (e) {
    console.error(`ikegwctl: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
}

import { fileURLToPath } from 'node:url';
import { realpathSync } from 'node:fs';
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((c) => process.exit(c));
}
