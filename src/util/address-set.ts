import { BlockList, isIP } from 'node:net';

/**
 * A set of IP addresses and CIDR ranges (`127.0.0.1`, `10.0.0.0/8`, `::1/128`), for the
 * `trusted_proxies` config key. IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`, what a
 * dual-stack socket reports for an IPv4 peer) match IPv4 entries.
 */
export class AddressSet {
  private readonly list = new BlockList();
  readonly empty: boolean;

  /** Throws `InvalidAddressEntry` naming the first entry that is not an address or a range. */
  constructor(entries: readonly string[]) {
    entries.forEach((entry, index) => {
      const parsed = parseEntry(entry);
      if (parsed === null) throw new InvalidAddressEntry(index, entry);
      this.list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    });
    this.empty = entries.length === 0;
  }

  has(address: string): boolean {
    if (this.empty) return false;
    const plain = unmapIpv4(address);
    const family = isIP(plain);
    if (family === 0) return false;
    return this.list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }
}

export class InvalidAddressEntry extends Error {
  constructor(
    readonly index: number,
    readonly entry: string,
  ) {
    super(`'${entry}' is not an IP address or a CIDR range (e.g. 10.0.0.0/8, fd00::/8)`);
    this.name = 'InvalidAddressEntry';
  }
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; any other address unchanged. */
export function unmapIpv4(address: string): string {
  if (address.length > 7 && address.charCodeAt(0) === 0x3a && /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address)) {
    return address.slice(7);
  }
  return address;
}

function parseEntry(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const slash = entry.indexOf('/');
  const written = slash === -1 ? entry : entry.slice(0, slash);
  const family = isIP(written);
  if (family === 0) return null;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const bits = entry.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bits)) return null;
    prefix = Number(bits);
    if (prefix > max) return null;
  }
  // `::ffff:192.0.2.0/120` is the IPv4 range 192.0.2.0/24 written in IPv6.
  const address = unmapIpv4(written);
  if (address !== written) {
    if (prefix < 96) return null;
    return { address, prefix: prefix - 96, family: 'ipv4' };
  }
  return { address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}
