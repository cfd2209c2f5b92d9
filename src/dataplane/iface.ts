/**
 * TUN interface set-up shared by both data planes: inner addresses and routes with
 * iproute2 (`ip addr add`, `ip route add`). IPv6 addresses skip duplicate address detection
 * (nodad): a point-to-point TUN has no neighbours to collide with, and DAD would keep the
 * address tentative (unusable as a source) for a second or more.
 */
import { execFileSync } from 'node:child_process';

export function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** put `addresses` on TUN `dev` and route `routes` into it; throws with ip's stderr */
export function configureTun(dev: string, addresses: readonly string[], routes: readonly string[]): void {
  for (const a of addresses) ip([...(a.includes(':') ? ['-6'] : []), 'addr', 'add', a, 'dev', dev, ...(a.includes(':') ? ['nodad'] : [])]);
  for (const r of routes) ip([...(r.includes(':') ? ['-6'] : []), 'route', 'add', r, 'dev', dev]);
}
