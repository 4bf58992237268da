/** The host part of a peer address as the host records it (`ip:port`, `[v6]:port`, `::ffff:v4:port`). */
import { isIP, isIPv4 } from 'node:net';

/**
 * Lower-case host without port; IPv4-mapped IPv6 becomes plain IPv4. Null when there is none or
 * the text is not a network address (e.g. the origin `cli`).
 */
export function hostOf(address: unknown): string | null {
  if (typeof address !== 'string') return null;
  const a = address.trim();
  if (a === '' || a === '?:0') return null;
  let host = a;
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(a);
  if (bracketed) {
    host = bracketed[1] ?? a;
  } else {
    const withPort = /^(.*):(\d{1,5})$/.exec(a);
    const colons = a.split(':').length - 1;
    if (withPort && (colons === 1 || isIP(withPort[1] ?? '') !== 0)) host = withPort[1] ?? a;
  }
  host = host.toLowerCase();
  if (host.startsWith('::ffff:') && isIPv4(host.slice(7))) host = host.slice(7);
  // An IP address, or a DNS name; other origins ('cli', 'scheduler') are not network addresses.
  if (isIP(host) === 0 && !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(host)) return null;
  return host.slice(0, 100);
}
