/**
 * NAT detection (RFC 7296 §2.23): NAT_DETECTION_*_IP data = SHA-1(SPIi | SPIr | IP | Port).
 * A mismatch of the peer's DESTINATION hash with our address means *we* are behind a NAT;
 * a mismatch of its SOURCE hash with its address means *it* is.
 */
import { createHash } from 'node:crypto';
import { parseAddress } from '../net/prefix.js';
import type { Endpoint } from '../esp/port.js';

export function natdHash(spiI: Uint8Array, spiR: Uint8Array, ep: Endpoint): Uint8Array {
  const h = createHash('sha1');
  h.update(spiI);
  h.update(spiR);
  h.update(parseAddress(ep.address) ?? new Uint8Array(0));
  const port = Buffer.alloc(2);
  port.writeUInt16BE(ep.port);
  h.update(port);
  return new Uint8Array(h.digest());
}

/**
 * A NAT_DETECTION_SOURCE_IP value that can never match (used with `encap: always`, as
 * strongSwan's userspace ESP does, to force UDP encapsulation on port 4500).
 */
export function fakeNatdHash(spiI: Uint8Array, spiR: Uint8Array, ep: Endpoint): Uint8Array {
  const h = natdHash(spiI, spiR, ep);
  h[0] = h[0]! ^ 0xff;
  return h;
}
