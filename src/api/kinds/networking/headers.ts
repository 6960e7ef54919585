// HTTP header rules for routes: header names, Envoy header value syntax (%VAR%), set/add/remove operations.
import { obj, str, list, record, child, type At, type Checker, type Validator } from '../../schema.js';
import type { HeaderOperations, Headers } from './virtual-service.js';

// RFC 7230 token characters, the header names Istio accepts in matches and CORS lists.
const HEADER_NAME = /^[-!#$%&'*+.^_`|~A-Za-z0-9]+$/;
// Pseudo-headers (RFC 7540 section 8.1.2) a route may match on, as Istio allows.
const PSEUDO_HEADERS = new Set([':method', ':scheme', ':authority', ':path', ':status']);
// Control characters other than horizontal tab are not allowed in header values.

const BAD_VALUE_CHARS = /[\u0000-\u0008\u000A-\u001F\u007F]/;

/** True for a header name Istio accepts in matches and CORS lists (an RFC 7230 token). */
export const isHeaderName = (n: string): boolean => HEADER_NAME.test(n);

/** True for a pseudo-header a route may match on (`:method`, `:path`, ...). */
export const isPseudoHeader = (n: string): boolean => PSEUDO_HEADERS.has(n);

/** Reports unless `name` is a valid header name (an RFC 7230 token: letters, digits and !#$%&'*+-.^_`|~). */
export function checkHeaderName(name: string, at: At, c: Checker): void {
  if (name === '') c.error(at, 'header name cannot be empty');
  else if (!isHeaderName(name))
    c.error(
      at,
      `header name ${JSON.stringify(name)} is not a valid header name (letters, digits and !#$%&'*+-.^_\`|~)`,
    );
}

/**
 * Why a header value is invalid for Envoy, or null. Values may hold `%VAR%` or `%VAR(args)%` expressions
 * and `%%` for a literal percent, following Envoy's header parser.
 */
export function headerValueError(value: string): string | null {
  if (BAD_VALUE_CHARS.test(value)) return 'header value contains control characters';
  type State = 'lit' | 'name' | 'arr' | 'str' | 'strIn' | 'delim' | 'argsEnd' | 'varEnd';
  let state: State = 'lit';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    switch (state) {
      case 'lit':
        if (ch !== '%') break;
        if (i + 1 >= value.length) return 'un-escaped "%" (write "%%" for a literal percent)';
        if (value[i + 1] === '%') i++;
        else state = 'name';
        break;
      case 'name':
        if (ch === '%') state = 'lit';
        else if (ch === '(') state = 'arr';
        break;
      case 'arr':
        if (ch === '[') state = 'str';
        else if (ch !== ' ') state = 'strIn';
        break;
      case 'delim':
        if (ch === ',') state = 'str';
        else if (ch === ']') state = 'argsEnd';
        else if (ch !== ' ') return 'expecting ",", "]" or whitespace in variable arguments';
        break;
      case 'str':
        if (ch === '"') state = 'strIn';
        else if (ch !== ' ') return "expecting '\"' in variable arguments";
        break;
      case 'strIn':
        if (ch === '\\') {
          if (i + 1 >= value.length) return 'unterminated backslash in variable arguments';
          i++;
        } else if (ch === ')') state = 'varEnd';
        else if (ch === '"') state = 'delim';
        break;
      case 'argsEnd':
        if (ch === ')') state = 'varEnd';
        else if (ch !== ' ') return 'expecting ")" after variable arguments';
        break;
      case 'varEnd':
        if (ch === '%') state = 'lit';
        else if (ch !== ' ') return 'expecting "%" to end the variable expression';
        break;
    }
  }
  return state === 'lit' ? null : `unterminated variable expression (write "%%" for a literal percent)`;
}

/** A header value Envoy accepts. */
export const headerValue = (): Validator<string> =>
  str((v, at, c) => {
    const e = headerValueError(v);
    if (e) c.error(at, `invalid header value ${JSON.stringify(v)}: ${e}`);
  });

const isInternal = (n: string): boolean => n.startsWith(':') || n.toLowerCase() === 'host';
const isAuthority = (n: string): boolean => n.toLowerCase() === ':authority' || n.toLowerCase() === 'host';

function checkSetName(request: boolean): (n: string, at: At, c: Checker) => void {
  return (n, at, c) => {
    if (n === '') c.error(at, 'header name cannot be empty');
    else if (request && isAuthority(n))
      return; // rewriting the authority is allowed on requests
    else if (n.toLowerCase() === 'host') c.error(at, 'cannot set the Host header here');
    else if (isInternal(n)) c.error(at, `invalid header ${JSON.stringify(n)}: header cannot have ":" prefix`);
  };
}

function checkRemoveName(n: string, at: At, c: Checker): void {
  if (n === '') c.error(at, 'header name cannot be empty');
  else if (n.toLowerCase() === 'host') c.error(at, 'cannot remove the Host header');
  else if (isInternal(n)) c.error(at, `invalid header ${JSON.stringify(n)}: header cannot have ":" prefix`);
}

function headerOperations(request: boolean): Validator<HeaderOperations> {
  return obj<HeaderOperations>({
    set: record(headerValue(), checkSetName(request)),
    add: record(headerValue(), checkSetName(request)),
    remove: list(str(checkRemoveName)),
  });
}

/** Header manipulation (request and response). At most one place may rewrite the authority. */
export const headers = (): Validator<Headers> =>
  obj<Headers>({ request: headerOperations(true), response: headerOperations(false) });

/** Reports when the authority is rewritten twice (rewrite.authority plus a Host/:authority header). */
export function checkAuthorityOnce(
  rewriteAuthority: string | undefined,
  h: Headers | undefined,
  headersAt: At,
  c: Checker,
): void {
  let current = rewriteAuthority ?? '';
  const req = h?.request;
  if (!h || !req) return;
  const reqAt = child(headersAt, h, 'request');
  for (const op of ['set', 'add'] as const) {
    const m = req[op];
    if (!m) continue;
    for (const [k, v] of Object.entries(m)) {
      if (!isAuthority(k)) continue;
      if (current !== '') {
        c.error(
          child(child(reqAt, req, op), m, k),
          `authority header cannot be set multiple times: have ${JSON.stringify(current)}, attempting to set ${JSON.stringify(v)}`,
        );
        return;
      }
      current = v;
    }
  }
}
