/**
 * Exchange engine (RFC 7296 §2.1–2.3): message IDs, window of one, retransmission owned by
 * the requester only (timeout × base^n, then give up), and the responder's cache of its
 * last response, resent verbatim when the same request arrives again.
 *
 * Tasks are small objects queued on an IKE SA (strongSwan task_manager structure):
 * `build` makes the request payloads, `process` consumes the response.
 */
import type { IkeMessage, Payload } from './wire/types.js';

export interface InitiatorTask {
  readonly name: string;
  readonly exchange: number;
  /** request payloads, or null if the task became moot (then it is dropped) */
  build(now: number): Payload[] | null;
  process(msg: IkeMessage, now: number): void;
  /** retransmissions exhausted */
  timedOut?(now: number): void;
}

export interface ActiveRequest {
  task: InitiatorTask;
  messageId: number;
  datagrams: Uint8Array[];
  /** number of retransmissions done so far */
  retransmits: number;
  nextAt: number;
}

export interface RetransmitPolicy {
  timeoutMs: number;
  base: number;
  tries: number;
}

/** Delay before retransmission n (0 = before the first retransmission). */
export function retransmitDelay(p: RetransmitPolicy, n: number): number {
  return Math.round(p.timeoutMs * Math.pow(p.base, n));
}

export class ExchangeState {
  /** ID of our next request */
  myMid = 0;
  /** ID we expect on the peer's next request */
  peerMid = 0;
  active: ActiveRequest | null = null;
  readonly queue: InitiatorTask[] = [];
  /** last response we sent, for retransmitted requests */
  cached: { messageId: number; datagrams: Uint8Array[] } | null = null;

  enqueue(t: InitiatorTask, front = false): void {
    if (front) this.queue.unshift(t);
    else this.queue.push(t);
  }
  hasTask(name: string): boolean {
    return this.active?.task.name === name || this.queue.some((t) => t.name === name);
  }
}
