// Envoy's StringMatcher (exact/prefix/suffix/contains/safe_regex, ignore_case) compiled once.
import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';
import type { envoy_type_matcher_v3_StringMatcher as StringMatcherMessage } from '../../xds/envoy-types.js';

const EXACT = 0;
const PREFIX = 1;
const SUFFIX = 2;
const CONTAINS = 3;
const REGEX = 4;
const ANY = 5;

/**
 * re2js, loaded at the first regex a config has (its CommonJS build, so compiling stays synchronous):
 * a proxy whose routes and matchers have no regex does not keep its ~4 MiB of tables and code.
 */
let re2: typeof RE2JS | undefined;
function re2js(): typeof RE2JS {
  return (re2 ??= (createRequire(import.meta.url)('re2js') as { RE2JS: typeof RE2JS }).RE2JS);
}

/** Compiles an RE2 pattern; throws with the pattern in the message. */
export function compileRegex(pattern: string): RE2JS {
  try {
    return re2js().compile(pattern);
  } catch (e) {
    throw new Error(`invalid RE2 regex "${pattern}": ${(e as Error).message}`);
  }
}

/** A compiled envoy.type.matcher.v3.StringMatcher. */
export class StringMatcher {
  private readonly kind: number;
  private readonly value: string;
  private readonly re: RE2JS | null;
  private readonly ignoreCase: boolean;

  /** Compiles a canonical StringMatcher; throws Error naming the bad part. */
  constructor(m: StringMatcherMessage | null | undefined) {
    this.ignoreCase = m?.ignoreCase === true;
    this.re = null;
    if (m?.exact !== undefined) [this.kind, this.value] = [EXACT, String(m.exact)];
    else if (m?.prefix !== undefined) [this.kind, this.value] = [PREFIX, String(m.prefix)];
    else if (m?.suffix !== undefined) [this.kind, this.value] = [SUFFIX, String(m.suffix)];
    else if (m?.contains !== undefined) [this.kind, this.value] = [CONTAINS, String(m.contains)];
    else if (m?.safeRegex !== undefined) {
      this.kind = REGEX;
      this.value = String(m.safeRegex.regex ?? '');
      this.re = compileRegex(this.value);
    } else if (m && Object.keys(m).filter((k) => k !== 'ignoreCase').length > 0) {
      throw new Error(`unsupported string matcher ${JSON.stringify(m)}`);
    } else {
      // An empty StringMatcher: `exact: ""` in canonical form drops the field, so it means "equals ''".
      [this.kind, this.value] = [m ? EXACT : ANY, ''];
    }
    // Envoy ignores ignore_case for safe_regex.
    if (this.ignoreCase && this.kind !== REGEX) this.value = this.value.toLowerCase();
  }

  /** Tests a value (the whole value for exact/regex). */
  match(input: string): boolean {
    const s = this.ignoreCase && this.kind !== REGEX ? input.toLowerCase() : input;
    switch (this.kind) {
      case EXACT:
        return s === this.value;
      case PREFIX:
        return s.startsWith(this.value);
      case SUFFIX:
        return s.endsWith(this.value);
      case CONTAINS:
        return s.includes(this.value);
      case REGEX:
        return this.re!.testExact(s);
      default:
        return true;
    }
  }
}
