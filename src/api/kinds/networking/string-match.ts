// StringMatch (exact | prefix | regex) as VirtualService matches and CORS origins use it.
import { obj, str, exactlyOne, child, type At, type Checker, type Validator } from '../../schema.js';
import { re2Error } from '../../checks.js';
import type { StringMatch } from './virtual-service.js';

/** Where a StringMatch is used; decides whether empty values are allowed. */
export type MatchWhere =
  'uri' | 'headers' | 'withoutHeaders' | 'queryParams' | 'scheme' | 'method' | 'authority' | 'cors';

/** Reports unless `re` is RE2 of at most 1024 characters (Envoy's program-size limit, approximated). */
export function checkRe2(re: string, at: At, c: Checker): void {
  if (re.length > 1024) {
    c.error(at, `regex is too large (${re.length} characters), at most 1024 are allowed`);
    return;
  }
  const e = re2Error(re);
  if (e !== null)
    c.error(at, `invalid RE2 regex (Istio and Envoy use RE2 syntax: no lookaround or backreferences): ${e}`);
}

/**
 * A StringMatch: at most one of exact, prefix, regex (`{}` matches presence). Prefixes and regexes
 * must not be empty except a uri prefix; a regex must be RE2.
 */
export function stringMatch(where: MatchWhere): Validator<StringMatch> {
  return obj<StringMatch>(
    { exact: str(), prefix: str(), regex: str() },
    {
      rules: (m, at, c) => {
        exactlyOne(m as Record<string, unknown>, ['exact', 'prefix', 'regex'], at, c, where !== 'cors');
        if (m.prefix === '' && where !== 'uri')
          c.error(child(at, m, 'prefix'), 'prefix string match should not be empty');
        if (m.regex !== undefined) {
          if (where === 'withoutHeaders' && m.regex === '*') return; // "*" means "present" here
          if (m.regex === '') c.error(child(at, m, 'regex'), 'regex string match should not be empty');
          else checkRe2(m.regex, child(at, m, 'regex'), c);
        }
        if (where === 'cors' && m.exact === '')
          c.error(child(at, m, 'exact'), 'an allowed origin must not be empty');
      },
    },
  );
}
