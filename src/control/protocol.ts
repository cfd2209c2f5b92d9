/**
 * Control protocol: newline-delimited JSON over a UNIX socket, one request → one response.
 *   → {"v":1,"cmd":"status"} | {"v":1,"cmd":"up","name":"site-b"} | {"v":1,"cmd":"down","name":"site-b"}
 *   ← {"ok":true,"result":…} | {"ok":false,"error":"…"}
 */
export const CONTROL_VERSION = 1;
export type ControlRequest =
  | { v: 1; cmd: 'status' }
  | { v: 1; cmd: 'up'; name: string }
  | { v: 1; cmd: 'down'; name: string };
export type ControlResponse = { ok: true; result: unknown } | { ok: false; error: string };
