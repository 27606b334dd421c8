import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { type AddressSet, unmapIpv4 } from '../util/address-set.js';

/** What a listener says about the requests it accepts (Synapse's `listeners[].x_forwarded`). */
export interface ListenerTrust {
  xForwarded: boolean;
}

/**
 * The address of the client a request comes from, used for rate limits, captcha checks and logs.
 *
 * Synapse's `x_forwarded` trusts the leftmost `X-Forwarded-For` address from any peer. Tessera
 * deliberately trusts the header less, so a client cannot choose its own address:
 * - only on a listener with `x_forwarded: true` (never because another listener has it);
 * - only when the TCP peer is in `trusted_proxies`;
 * - then walking the header from the right, past every hop that is itself a trusted proxy:
 *   the first address that is not is the one the nearest trusted proxy saw as its client.
 *   Anything to its left was written by that client and is ignored. A hop that is not an IP
 *   address stops the walk at the last trusted proxy.
 */
export class ClientAddresses {
  constructor(private readonly trustedProxies: AddressSet) {}

  /** The client address of a request arriving on `listener`. */
  of(raw: IncomingMessage, listener: ListenerTrust): string {
    const header = raw.headers['x-forwarded-for'];
    return this.resolve(
      raw.socket.remoteAddress ?? '',
      Array.isArray(header) ? header.join(',') : header,
      listener.xForwarded,
    );
  }

  resolve(peerAddress: string, forwardedFor: string | undefined, xForwarded: boolean): string {
    const peer = unmapIpv4(peerAddress);
    if (!xForwarded || forwardedFor === undefined || !this.trustedProxies.has(peer)) return peer;
    // Node joins repeated X-Forwarded-For headers with ", ": one list, oldest hop first.
    const hops = forwardedFor.split(',');
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hopAddress(hops[i]!);
      if (hop === null) break;
      client = hop;
      if (!this.trustedProxies.has(hop)) break;
    }
    return client;
  }
}

/** One X-Forwarded-For entry as an address: `1.2.3.4`, `1.2.3.4:5678`, `[::1]:5678`; else null. */
function hopAddress(entry: string): string | null {
  let hop = entry.trim();
  if (hop.startsWith('[')) {
    const close = hop.indexOf(']');
    if (close === -1) return null;
    hop = hop.slice(1, close);
  } else if (hop.indexOf(':') !== -1 && hop.indexOf(':') === hop.lastIndexOf(':')) {
    hop = hop.slice(0, hop.indexOf(':'));
  }
  hop = unmapIpv4(hop);
  return isIP(hop) === 0 ? null : hop;
}
