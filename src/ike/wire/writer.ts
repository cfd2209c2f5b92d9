/**
 * Fixed-size big-endian writer. Encoders are two-pass: `encodingLength()` first, then
 * allocate exactly that and write; `Writer.finish()` asserts both passes agree.
 */
export class Writer {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    offset = 0,
  ) {
    this.pos = offset;
  }
  static alloc(n: number): Writer {
    return new Writer(new Uint8Array(n));
  }
  u8(v: number): this {
    this.check(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    this.check(2);
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
    return this;
  }
  u32(v: number): this {
    this.check(4);
    this.buf[this.pos++] = (v >>> 24) & 0xff;
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.check(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  zeros(n: number): this {
    this.check(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }
  /** patch a 16-bit field written earlier (e.g. a length) */
  setU16(at: number, v: number): void {
    this.buf[at] = (v >>> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
  }
  setU32(at: number, v: number): void {
    this.buf[at] = (v >>> 24) & 0xff;
    this.buf[at + 1] = (v >>> 16) & 0xff;
    this.buf[at + 2] = (v >>> 8) & 0xff;
    this.buf[at + 3] = v & 0xff;
  }
  /** returns the buffer, asserting it was filled exactly (encodingLength bugs surface here) */
  finish(): Uint8Array {
    if (this.pos !== this.buf.length) {
      throw new RangeError(`writer: wrote ${this.pos} of ${this.buf.length} bytes (encodingLength mismatch)`);
    }
    return this.buf;
  }
  private check(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new RangeError(`writer: overflow writing ${n} at ${this.pos} of ${this.buf.length}`);
    }
  }
}

/** encoder-side range check: values out of field range are programming errors */
export function assertUint(v: number, bits: 8 | 16 | 32, what: string): void {
  const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what}: ${v} does not fit in ${bits} bits`);
}
