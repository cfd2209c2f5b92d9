/**
 * What the IKE core returns. The core does no I/O and owns no timers (boringtun style):
 * every call returns actions for the runtime to carry out, plus the next wake-up time.
 */
import type { Endpoint, SaSpec, Spi } from '../esp/port.js';

export interface SendAction {
  kind: 'send';
  /** complete IKE message(s); more than one when fragmented (RFC 7383) */
  datagrams: Uint8Array[];
  local: Endpoint;
  remote: Endpoint;
}
export interface InstallSaAction {
  kind: 'install-sa';
  spec: SaSpec;
}
export interface ActivateOutboundAction {
  kind: 'activate-outbound';
  connection: string;
  spi: Spi;
}
export interface UpdateSaAction {
  kind: 'update-sa';
  spi: Spi;
  remote?: Endpoint;
  encap?: boolean;
}
export interface DeleteSaAction {
  kind: 'delete-sa';
  spi: Spi;
}
export interface EmitAction {
  kind: 'event';
  event: IkeEvent;
}

export type Action = SendAction | InstallSaAction | ActivateOutboundAction | UpdateSaAction | DeleteSaAction | EmitAction;

export interface ChildSaInfo {
  connection: string;
  childId: number;
  spiIn: Spi;
  spiOut: Spi;
  encr: string; // e.g. AES_GCM_16_256
  integ: string | null;
  ke: string | null;
  esn: boolean;
  localTs: string[];
  remoteTs: string[];
  encap: boolean;
}
export interface IkeSaInfo {
  connection: string;
  ikeId: number;
  spiI: string; // hex
  spiR: string;
  initiator: boolean;
  local: Endpoint;
  remote: Endpoint;
  localId: string;
  remoteId: string;
  encr: string;
  integ: string | null;
  prf: string;
  ke: string;
  natLocal: boolean;
  natRemote: boolean;
}

/** Events, also the core's only way to "log": the runtime turns them into pino lines. */
export type IkeEvent =
  | { type: 'ike-up'; sa: IkeSaInfo }
  | { type: 'ike-down'; connection: string; ikeId: number; reason: string }
  | { type: 'child-up'; ike: number; child: ChildSaInfo }
  | { type: 'child-down'; ike: number; child: ChildSaInfo; reason: string }
  | { type: 'child-rekeyed'; ike: number; old: ChildSaInfo; child: ChildSaInfo }
  | { type: 'ike-rekeyed'; connection: string; oldIkeId: number; sa: IkeSaInfo }
  | { type: 'failed'; connection: string | null; ikeId?: number; notify?: string; reason: string }
  | { type: 'retransmit'; connection: string; ikeId: number; exchange: string; messageId: number; attempt: number }
  | { type: 'peer-dead'; connection: string; ikeId: number }
  | { type: 'drop'; reason: string; detail?: string; remote?: Endpoint }
  | {
      type: 'log';
      level: 'debug' | 'info' | 'warn' | 'error';
      msg: string;
      connection?: string;
      ikeId?: number;
      [k: string]: unknown;
    }
  /** key material for an optional Wireshark-style key log (debug only, off by default) */
  | { type: 'keys'; kind: 'ike'; spiI: string; spiR: string; skEi: string; skEr: string; skAi: string; skAr: string; encr: string; integ: string | null }
  | { type: 'keys'; kind: 'esp'; spi: string; dir: 'in' | 'out'; encKey: string; integKey: string; encr: string; integ: string | null; src: string; dst: string };

export interface Output {
  actions: Action[];
  /** earliest monotonic ms at which tick() must be called; undefined = no deadline */
  wakeAt: number | undefined;
}
