// regex_rewrite (RE2 pattern + substitution with \N backreferences), compiled once.
import type { RE2JS } from 're2js';
import { compileRegex } from '../../matchers/string-matcher.js';
import type { envoy_type_matcher_v3_RegexMatchAndSubstitute as RegexMatchAndSubstitute } from '../../../xds/envoy-types.js';

/** A compiled envoy.type.matcher.v3.RegexMatchAndSubstitute. */
export class RegexRewrite {
  private readonly re: RE2JS;
  /** Substitution split into literal text and group numbers (numbers are group refs). */
  private readonly parts: Array<string | number>;

  constructor(r: RegexMatchAndSubstitute) {
    this.re = compileRegex(String(r?.pattern?.regex ?? ''));
    this.parts = [];
    const sub = String(r?.substitution ?? '');
    let lit = '';
    for (let i = 0; i < sub.length; i++) {
      const c = sub[i];
      if (c === '\\' && i + 1 < sub.length && /\d/.test(sub[i + 1])) {
        if (lit) this.parts.push(lit);
        lit = '';
        this.parts.push(Number(sub[++i]));
      } else if (c === '\\' && sub[i + 1] === '\\') {
        lit += '\\';
        i++;
      } else lit += c;
    }
    if (lit) this.parts.push(lit);
  }

  /** Replaces every match in `input`. */
  apply(input: string): string {
    return this.re.matcher(input).replaceAll((...args: unknown[]) => {
      let out = '';
      for (const p of this.parts)
        out += typeof p === 'number' ? String((args[p] as string | undefined) ?? '') : p;
      return out;
    });
  }
}
