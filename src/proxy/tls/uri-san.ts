// A certificate's SPIFFE identity as Envoy reads it (uri_san_*_certificate): its first URI SAN.

/** The first `URI:` entry of Node's `subjectaltname` string, or '' when there is none. */
export function firstUriSan(subjectAltName: unknown): string {
  if (typeof subjectAltName !== 'string') return '';
  for (const part of subjectAltName.split(', ')) if (part.startsWith('URI:')) return part.slice(4);
  return '';
}
