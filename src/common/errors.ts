/**
 * Typed errors. Parsers throw ParseError (caught at the engine boundary and counted),
 * protocol logic throws ProtocolError carrying the IKEv2 notify to answer with
 * (RFC 7296 §3.10.1), config loading throws ConfigError with file/line/key.
 * The packet path never throws: it returns a DropReason.
 */
export class ParseError extends Error {
  override readonly name = 'ParseError';
  constructor(
    readonly layer: string,
    readonly offset: number,
    readonly need: number,
    readonly have: number,
    detail?: string,
  ) {
    super(`${layer}: ${detail ?? 'truncated'} at offset ${offset} (need ${need}, have ${have})`);
  }
}

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  /** notify: IKEv2 Notify Message Type to send back (0 = none, just fail). */
  constructor(readonly notify: number, message: string, readonly notifyData?: Uint8Array) {
    super(message);
  }
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly key?: string,
  ) {
    super(
      (file ? `${file}${line !== undefined ? `:${line}` : ''}: ` : '') +
        (key ? `${key}: ` : '') +
        message,
    );
  }
}

/** Reasons a datagram or packet is dropped; counted, never thrown. */
export enum DropReason {
  Malformed = 'malformed',
  UnknownSpi = 'unknown_spi',
  Replay = 'replay',
  AuthFailed = 'auth_failed',
  PolicyMismatch = 'policy_mismatch',
  NoRoute = 'no_route',
  NoSa = 'no_sa',
  TooBig = 'too_big',
  IkeUnknownSa = 'ike_unknown_sa',
  IkeBadMessageId = 'ike_bad_message_id',
  IkeDecryptFailed = 'ike_decrypt_failed',
  IkeRuleViolation = 'ike_rule_violation',
  IkeRateLimited = 'ike_rate_limited',
  IkeCookieInvalid = 'ike_cookie_invalid',
  IkeFragment = 'ike_fragment',
  Dummy = 'dummy',
}
