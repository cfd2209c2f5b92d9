/**
 * TUN devices for the TypeScript data plane, one packet per read/write, no offloads.
 *
 * Creating a TUN takes the TUNSETIFF ioctl on /dev/net/tun, which Node cannot issue. Two ways:
 *
 *   addon   the native addon's openTun() (blocking fd); reads run on libuv's thread pool
 *           (fs.read), writes are fs.writeSync. Used whenever the addon loads.
 *   relay   without the addon: a small Perl program (perl-base is Essential in Debian, so it
 *           is on every Debian/Ubuntu host and in the slim Node images) opens the TUN, does the
 *           ioctl and relays packets over its stdin/stdout as frames `length (u16 BE) ‖ packet`.
 *           The TUN lives as long as the relay; it ends when its stdin closes (daemon gone).
 *           Slower (one extra copy and process hop per packet), but the gateway carries traffic
 *           where the addon could not be built.
 *
 * MTU, queue length and link state: the addon sets them in openTun; for the relay, `ip link`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { read, writeSync } from 'node:fs';
import { binding, bindingAvailable } from '../../native/index.js';
import { ip } from './iface.js';

export interface TunDevice {
  /** the kernel's name of the device */
  readonly name: string;
  readonly kind: 'addon' | 'relay';
  /** hand one IP packet to the kernel; false when it could not be written (counted by the caller) */
  write(pkt: Uint8Array): boolean;
  /** stop reading and remove the device */
  close(): void;
}

export interface TunCallbacks {
  /** one IP packet the kernel routed into the TUN (the buffer is reused after the call) */
  packet(pkt: Uint8Array): void;
  /** a failed read (the device keeps being read) */
  readError(): void;
}

/** Open TUN `name` with `mtu`, up, and start reading: through the addon when it loads, else the relay. */
export async function openTunDevice(name: string, mtu: number, cb: TunCallbacks): Promise<TunDevice> {
  return bindingAvailable ? openAddonTun(name, mtu, cb) : openRelayTun(name, mtu, cb);
}

const READ_BUF = 65_536;

function openAddonTun(name: string, mtu: number, cb: TunCallbacks): TunDevice {
  const tun = binding().openTun(name, mtu, false, true);
  const buf = Buffer.allocUnsafe(READ_BUF);
  let closed = false;
  const loop = (): void => {
    read(tun.fd, buf, 0, READ_BUF, null, (err, n) => {
      if (closed) return;
      if (err) {
        // EBADF/EFAULT after close; anything else: count, retry after a pause
        cb.readError();
        setTimeout(loop, 100).unref();
        return;
      }
      if (n > 0) cb.packet(buf.subarray(0, n));
      loop();
    });
  };
  loop();
  return {
    name: tun.name,
    kind: 'addon',
    write(pkt) {
      try {
        writeSync(tun.fd, pkt);
        return true;
      } catch {
        return false;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      // deleting the link wakes the thread-pool read blocked on the fd
      delLink(tun.name);
      binding().closeFd(tun.fd);
    },
  };
}

/**
 * The relay (Perl, core built-ins only). argv: device name. stderr: `ready <name>` once the
 * device exists, or the reason it could not be created (then exit 1).
 */
export const RELAY_SCRIPT = String.raw`
use strict;
my ($want) = @ARGV;
my ($TUNSETIFF, $IFF_TUN, $IFF_NO_PI) = (0x400454ca, 0x0001, 0x1000);
open(my $tun, '+<', '/dev/net/tun') or die "open /dev/net/tun: $!\n";
my $ifr = pack('a16 S x22', $want, $IFF_TUN | $IFF_NO_PI);   # struct ifreq: name, flags
ioctl($tun, $TUNSETIFF, $ifr) or die "TUNSETIFF $want: $!\n";
my ($name) = unpack('Z16', $ifr);
binmode STDIN; binmode STDOUT;
syswrite(STDERR, "ready $name\n");
my ($tfd, $in) = (fileno($tun), '');
while (1) {
  my $rin = ''; vec($rin, $tfd, 1) = 1; vec($rin, 0, 1) = 1;
  my $n = select(my $rout = $rin, undef, undef, undef);
  next if $n <= 0;
  if (vec($rout, $tfd, 1)) {                      # kernel -> daemon: one packet per read
    my $r = sysread($tun, my $pkt, 65535);
    if ($r) {
      my $f = pack('n', $r) . $pkt;
      for (my $off = 0; $off < length $f;) {
        my $w = syswrite(STDOUT, $f, length($f) - $off, $off);
        exit 0 unless defined $w;
        $off += $w;
      }
    }
  }
  if (vec($rout, 0, 1)) {                         # daemon -> kernel
    my $r = sysread(STDIN, my $buf, 262144);
    exit 0 unless $r;                             # daemon gone: closing the fd removes the TUN
    $in .= $buf;
    while (length($in) >= 2) {
      my $len = unpack('n', $in);
      last if length($in) < 2 + $len;
      syswrite($tun, substr($in, 2, $len));
      substr($in, 0, 2 + $len) = '';
    }
  }
}
`;

/** most bytes queued towards the relay before further packets are dropped (tun write errors) */
const RELAY_BACKLOG = 4 << 20;

async function openRelayTun(name: string, mtu: number, cb: TunCallbacks): Promise<TunDevice> {
  let child: ChildProcess;
  try {
    child = spawn('perl', ['-e', RELAY_SCRIPT, name], { stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`TUN relay: cannot start perl: ${e instanceof Error ? e.message : e}`);
  }
  const actual = await new Promise<string>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => fail('no answer within 5 s'), 5000);
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`TUN relay for ${name}: ${why}`));
    };
    child.once('error', (e) => fail(`cannot start perl (${e.message}); without the native addon the TypeScript data plane needs perl to open TUN devices`));
    child.once('exit', (code) => fail(err.trim() || `perl exited with code ${code}`));
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /^ready (\S+)$/m.exec(err);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        resolve(m[1]!);
      }
    });
  });
  let closed = false;
  child.on('error', () => {
    /* reported through writes failing; close() cleans up */
  });
  child.stdin!.on('error', () => {
    /* EPIPE after the relay ended */
  });
  // frames from the relay: length (u16 BE) ‖ packet, possibly split across chunks
  let pending: Buffer = Buffer.alloc(0);
  child.stdout!.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let off = 0;
    while (pending.length - off >= 2) {
      const len = pending.readUInt16BE(off);
      if (pending.length - off < 2 + len) break;
      cb.packet(pending.subarray(off + 2, off + 2 + len));
      off += 2 + len;
    }
    pending = off === pending.length ? Buffer.alloc(0) : pending.subarray(off);
  });
  const dev: TunDevice = {
    name: actual,
    kind: 'relay',
    write(pkt) {
      if (closed || pkt.length > 0xffff || child.stdin!.writableLength > RELAY_BACKLOG) return false;
      const f = Buffer.allocUnsafe(2 + pkt.length);
      f.writeUInt16BE(pkt.length, 0);
      f.set(pkt, 2);
      child.stdin!.write(f);
      return true;
    },
    close() {
      if (closed) return;
      closed = true;
      child.stdin!.end();
      child.kill('SIGTERM');
      delLink(actual);
    },
  };
  try {
    ip(['link', 'set', 'dev', actual, 'mtu', String(mtu), 'txqueuelen', '4096', 'up']);
  } catch (e) {
    dev.close();
    throw e;
  }
  return dev;
}

function delLink(name: string): void {
  try {
    ip(['link', 'del', 'dev', name]);
  } catch {
    /* already gone */
  }
}
