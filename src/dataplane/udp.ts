/**
 * IKE sockets (RFC 7296 §2: UDP 500; RFC 3948: UDP 4500 shared with ESP-in-UDP).
 *
 * One pair of sockets per local address. On 4500 a datagram is demultiplexed by its first
 * octets (RFC 3948 §2.2): four zero octets = non-ESP marker → IKE; a single 0xFF octet =
 * NAT keepalive → dropped; anything else = ESP → handed to the data plane callback.
 * The marker is added when IKE is sent from the 4500 socket.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Endpoint } from '../esp/port.js';

export const NATT_PORT = 4500;

export interface UdpCallbacks {
  ike(buf: Uint8Array, local: Endpoint, remote: Endpoint): void;
  esp?(buf: Uint8Array, local: Endpoint, remote: Endpoint): void;
  error(err: Error, where: string): void;
}

interface Bound {
  address: string;
  ike: dgram.Socket;
  natt: dgram.Socket;
  ikePort: number;
}

export class UdpTransport {
  private readonly bound = new Map<string, Bound>();
  readonly counters = { keepalivesIn: 0, ikeIn: 0, espIn: 0, ikeOut: 0, sendErrors: 0, short: 0 };

  constructor(private readonly cb: UdpCallbacks) {}

  /** Bind IKE (ikePort) and NAT-T (4500) sockets on `address`. Rejects with a clear error. */
  async bind(address: string, ikePort: number): Promise<void> {
    if (this.bound.has(address)) return;
    const type = isIPv6(address) ? 'udp6' : 'udp4';
    const mk = (port: number, natt: boolean) =>
      new Promise<dgram.Socket>((resolve, reject) => {
        const s = dgram.createSocket({ type, reuseAddr: false, ipv6Only: type === 'udp6' });
        s.once('error', (e: NodeJS.ErrnoException) => {
          const hint =
            e.code === 'EACCES' ? ' (binding a port below 1024 needs root or CAP_NET_BIND_SERVICE)' : e.code === 'EADDRINUSE' ? ' (another IKE daemon, e.g. charon, already uses it)' : e.code === 'EADDRNOTAVAIL' ? ' (the address is not configured on this host)' : '';
          reject(new Error(`cannot bind UDP ${address}:${port}: ${e.code ?? e.message}${hint}`));
        });
        s.bind(port, address, () => {
          s.removeAllListeners('error');
          s.on('error', (err) => this.cb.error(err, `udp ${address}:${port}`));
          s.on('message', (msg, rinfo) => this.onMessage(msg, rinfo, address, port, natt));
          resolve(s);
        });
      });
    const ike = await mk(ikePort, false);
    let natt: dgram.Socket;
    try {
      natt = await mk(NATT_PORT, true);
    } catch (e) {
      ike.close();
      throw e;
    }
    this.bound.set(address, { address, ike, natt, ikePort });
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo, address: string, port: number, natt: boolean): void {
    const local = { address, port };
    const remote = { address: rinfo.address, port: rinfo.port };
    const buf = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
    if (!natt) {
      this.counters.ikeIn++;
      this.cb.ike(buf, local, remote);
      return;
    }
    if (buf.length === 1 && buf[0] === 0xff) {
      this.counters.keepalivesIn++;
      return;
    }
    if (buf.length < 4) {
      this.counters.short++;
      return;
    }
    if (buf[0] === 0 && buf[1] === 0 && buf[2] === 0 && buf[3] === 0) {
      this.counters.ikeIn++;
      this.cb.ike(buf.subarray(4), local, remote);
      return;
    }
    this.counters.espIn++;
    this.cb.esp?.(buf, local, remote);
  }

  private socketFor(local: Endpoint): { s: dgram.Socket; natt: boolean } | undefined {
    const b = this.bound.get(local.address);
    if (!b) return undefined;
    return local.port === NATT_PORT ? { s: b.natt, natt: true } : { s: b.ike, natt: false };
  }

  sendIke(datagrams: Uint8Array[], local: Endpoint, remote: Endpoint): void {
    const sock = this.socketFor(local);
    if (!sock) {
      this.counters.sendErrors++;
      this.cb.error(new Error(`no socket bound for ${local.address}:${local.port}`), 'send');
      return;
    }
    for (const d of datagrams) {
      const parts = sock.natt ? [Buffer.alloc(4), d] : [d];
      this.counters.ikeOut++;
      sock.s.send(parts, remote.port, remote.address, (err) => {
        if (err) this.counters.sendErrors++;
      });
    }
  }

  /** raw UDP send on the 4500 socket (ESP-in-UDP from the TS data path, keepalives) */
  sendRaw(buf: Uint8Array, local: Endpoint, remote: Endpoint): void {
    const b = this.bound.get(local.address);
    if (!b) return;
    b.natt.send(buf, remote.port, remote.address, (err) => {
      if (err) this.counters.sendErrors++;
    });
  }

  async close(): Promise<void> {
    const all: Promise<void>[] = [];
    for (const b of this.bound.values()) for (const s of [b.ike, b.natt]) all.push(new Promise((r) => s.close(() => r())));
    this.bound.clear();
    await Promise.all(all);
  }
}
