/**
 * Bounds-checked big-endian cursor over a Uint8Array (dns-packet / noble style).
 * Every failed read throws ParseError naming the layer being parsed, the absolute
 * offset in the datagram (`base` + local position), how many bytes were needed and
 * how many were left. Nothing else is ever thrown.
 */
import { ParseError } from '../../common/errors.js';

export class Reader {
  pos = 0;
  /**
   * @param buf   the bytes of this layer only (a subarray; never copied)
   * @param layer name used in errors, e.g. "IKE header", "SA/Proposal", "TSi"
   * @param base  absolute offset of buf[0] inside the datagram, for error messages
   */
  constructor(
    readonly buf: Uint8Array,
    readonly layer: string,
    readonly base = 0,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }
  /** absolute offset of the cursor */
  get offset(): number {
    return this.base + this.pos;
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  need(n: number, what?: string): void {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new ParseError(this.layer, this.offset, n, this.remaining, what ? `truncated ${what}` : undefined);
    }
  }
  u8(what?: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }
  u16(what?: string): number {
    this.need(2, what);
    const b = this.buf;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  u32(what?: string): number {
    this.need(4, what);
    const b = this.buf;
    const p = this.pos;
    const v = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    this.pos += 4;
    return v;
  }
  /** a view (no copy) of the next n bytes */
  view(n: number, what?: string): Uint8Array {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  /** a copy of the next n bytes (decoded messages own their bytes) */
  bytes(n: number, what?: string): Uint8Array {
    return this.view(n, what).slice();
  }
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }
  skip(n: number, what?: string): void {
    this.need(n, what);
    this.pos += n;
  }
  /** a sub-reader over the next n bytes, for a nested structure, advancing this cursor */
  sub(n: number, layer: string, what?: string): Reader {
    this.need(n, what);
    const r = new Reader(this.buf.subarray(this.pos, this.pos + n), layer, this.offset);
    this.pos += n;
    return r;
  }
  /** throw a ParseError at the current offset (semantic error, e.g. bad length field) */
  fail(detail: string, need = 0, have = this.remaining, at = this.offset): never {
    throw new ParseError(this.layer, at, need, have, detail);
  }
  /** ParseError if bytes are left over */
  end(what = 'trailing bytes'): void {
    if (this.pos !== this.buf.length) this.fail(what, 0, this.remaining);
  }
}
