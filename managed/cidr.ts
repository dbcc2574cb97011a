/** IPv4 CIDR arithmetic, enough to lay out subnets without an AWS call. */

export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  readonly base: number;
  readonly prefix: number;
}

/** Parses `a.b.c.d/n`; returns an error message instead when it is not a valid, aligned IPv4 CIDR. */
export function parseCidr(text: string): Cidr | string {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) return `"${text}" is not an IPv4 CIDR block like 10.0.0.0/16`;
  const octets = match.slice(1, 5).map(Number);
  if (octets.some((o, i) => o > 255 || (match[i + 1].length > 1 && match[i + 1].startsWith("0")))) {
    return `"${text}" has an octet outside 0-255 or with a leading zero`;
  }
  const prefix = Number(match[5]);
  if (prefix > 32) return `"${text}" has a prefix length over 32`;
  const base = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  if ((base & hostMask(prefix)) !== 0) {
    return `"${text}" has host bits set; the network address is ${formatCidr({ base: (base & ~hostMask(prefix)) >>> 0, prefix })}`;
  }
  return { base, prefix };
}

export function formatCidr(cidr: Cidr): string {
  const b = cidr.base;
  return `${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.${b & 255}/${cidr.prefix}`;
}

/** Terraform's cidrsubnet: the `netnum`-th block of `prefix + newbits` inside `cidr`. */
export function subnet(cidr: Cidr, newbits: number, netnum: number): Cidr {
  const prefix = cidr.prefix + newbits;
  if (prefix > 32 || netnum < 0 || netnum >= 2 ** newbits) {
    throw new RangeError(`cannot take block ${netnum} of /${prefix} inside ${formatCidr(cidr)}`);
  }
  return { base: (cidr.base + netnum * 2 ** (32 - prefix)) >>> 0, prefix };
}

export function contains(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && (inner.base & ~hostMask(outer.prefix)) >>> 0 === outer.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b) || contains(b, a);
}

function hostMask(prefix: number): number {
  return prefix === 0 ? 0xffffffff : (2 ** (32 - prefix) - 1) >>> 0;
}
