/**
 * Stateless cookies (RFC 7296 §2.6). Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>).
 * The secret rotates; the previous one is still accepted for one period so in-flight
 * initiators are not refused. Pure: the caller passes `now` and the Rng output.
 */
import { createHash } from 'node:crypto';
import { equalCt } from '../common/bytes.js';
import { parseAddress } from '../net/prefix.js';

export class CookieJar {
  private version = 0;
  private secret: Uint8Array;
  private prevSecret: Uint8Array | null = null;
  private rotatedAt: number;

  constructor(
    private readonly randomBytes: (n: number) => Uint8Array,
    now: number,
    private readonly rotateMs = 120_000,
  ) {
    this.secret = randomBytes(32);
    this.rotatedAt = now;
  }

  private maybeRotate(now: number): void {
    if (now - this.rotatedAt >= this.rotateMs) {
      this.prevSecret = this.secret;
      this.secret = this.randomBytes(32);
      this.version = (this.version + 1) & 0xff;
      this.rotatedAt = now;
    }
  }

  private compute(version: number, secret: Uint8Array, ni: Uint8Array, ip: string, spiI: Uint8Array): Uint8Array {
    const h = createHash('sha256').update(ni).update(parseAddress(ip) ?? new Uint8Array(0)).update(spiI).update(secret).digest();
    const out = new Uint8Array(1 + 16);
    out[0] = version;
    out.set(h.subarray(0, 16), 1);
    return out;
  }

  make(now: number, ni: Uint8Array, ip: string, spiI: Uint8Array): Uint8Array {
    this.maybeRotate(now);
    return this.compute(this.version, this.secret, ni, ip, spiI);
  }

  verify(now: number, cookie: Uint8Array, ni: Uint8Array, ip: string, spiI: Uint8Array): boolean {
    this.maybeRotate(now);
    if (cookie.length !== 17) return false;
    if (cookie[0] === this.version) return equalCt(cookie, this.compute(this.version, this.secret, ni, ip, spiI));
    if (this.prevSecret && cookie[0] === ((this.version + 255) & 0xff))
      return equalCt(cookie, this.compute(cookie[0], this.prevSecret, ni, ip, spiI));
    return false;
  }
}
