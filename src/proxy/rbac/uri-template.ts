// envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig (`/a/*/b/**`) compiled to an RE2 regex.
import type { RE2JS } from 're2js';
import { compileRegex } from '../matchers/string-matcher.js';

const SEGMENT = "[a-zA-Z0-9\\-._~%!$&'()+,;:@=]+";
const ANY_SEGMENTS = "[a-zA-Z0-9\\-._~%!$&'()+,;:@=/]*";

function quote(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** A compiled path template: `*` is one path segment, `**` (last only) zero or more segments. */
export class UriTemplate {
  private readonly re: RE2JS;

  constructor(template: string) {
    if (!template.startsWith('/'))
      throw new Error(`uri template ${JSON.stringify(template)} must start with /`);
    const parts = template.split('/');
    const out: string[] = [];
    parts.forEach((p, i) => {
      if (p === '**') {
        if (i !== parts.length - 1)
          throw new Error(`uri template ${JSON.stringify(template)}: ** must be last`);
        out.push(ANY_SEGMENTS);
      } else if (p === '*') out.push(SEGMENT);
      else if (p.includes('*') || p.includes('{'))
        throw new Error(
          `uri template ${JSON.stringify(template)}: variables and partial wildcards are not supported`,
        );
      else out.push(quote(p));
    });
    this.re = compileRegex(out.join('/'));
  }

  /** Tests a path without its query string. */
  match(path: string): boolean {
    return this.re.testExact(path);
  }
}
