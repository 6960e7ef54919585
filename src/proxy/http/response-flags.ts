// Envoy's response flags (bit values and short names in Envoy's order) for access logs and stats.

/** Response flag bits (Envoy's StreamInfo::ResponseFlag order). */
export const Flag = {
  LH: 1 << 0,
  UH: 1 << 1,
  UT: 1 << 2,
  LR: 1 << 3,
  UR: 1 << 4,
  UF: 1 << 5,
  UC: 1 << 6,
  UO: 1 << 7,
  NR: 1 << 8,
  DI: 1 << 9,
  FI: 1 << 10,
  RL: 1 << 11,
  UAEX: 1 << 12,
  RLSE: 1 << 13,
  DC: 1 << 14,
  URX: 1 << 15,
  SI: 1 << 16,
  IH: 1 << 17,
  DPE: 1 << 18,
  UMSDR: 1 << 19,
  RFCF: 1 << 20,
  NFCF: 1 << 21,
  DT: 1 << 22,
  UPE: 1 << 23,
  NC: 1 << 24,
  OM: 1 << 25,
} as const;

const NAMES = Object.keys(Flag) as Array<keyof typeof Flag>;

/** `UF,URX` style string; '-' when no flag is set. */
export function flagsToString(bits: number): string {
  if (bits === 0) return '-';
  let out = '';
  for (let i = 0; i < NAMES.length; i++) {
    if (bits & (1 << i)) out += out ? `,${NAMES[i]}` : NAMES[i];
  }
  return out;
}
