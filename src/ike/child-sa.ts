/**
 * CHILD_SA record kept by an IKE SA (strongSwan child_sa.h, minus the kernel).
 * Keys are not kept here: they go to the data plane in InstallSa actions.
 */
import type { Spi } from '../esp/port.js';
import type { EspSuiteSel } from './proposal.js';
import type { TrafficSelectorConfig } from '../config/types.js';
import type { ChildSaInfo } from './actions.js';

export type ChildState = 'installed' | 'rekeying' | 'rekeyed' | 'deleting';

export interface ChildSa {
  id: number;
  spiIn: Spi;
  spiOut: Spi;
  suite: EspSuiteSel;
  localTs: TrafficSelectorConfig[];
  remoteTs: TrafficSelectorConfig[];
  state: ChildState;
  encap: boolean;
  installedAt: number;
  /** soft (rekey) and hard (delete) deadlines, monotonic ms */
  rekeyAt: number;
  expireAt: number;
  /**
   * Rekey responder: the new outbound SA is installed but not yet used; switch at this time
   * at the latest (normally the initiator's Delete of the old pair switches it earlier).
   */
  activateAt?: number | undefined;
  info: ChildSaInfo;
}
