// Node's own HTTP/1.x parser (llhttp, the one node:http runs), typed for the HTTP/1.1 codecs (server and client).
// It is reached through `_http_common`, which node:http itself uses and which node still exports; what
// it parses and refuses is exactly what node:http's server parses and refuses, strict mode included.
import { createRequire } from 'node:module';

/** One llhttp instance (node's `HTTPParser` binding). */
export interface NodeHttpParser {
  /** (type, async resource, max header bytes, lenient flags). */
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Parses a chunk; the callbacks run synchronously. Bytes parsed, or the parse error. */
  execute(data: Buffer): number | ParseError;
  /** Signals end of input (a message cut short is an error). */
  finish(): number | ParseError | undefined;
  /** Releases the native parser. */
  close(): void;
  [key: number]: unknown;
}

/** A parse error as node's binding reports it: `code` is llhttp's (`HPE_…`). */
export interface ParseError extends Error {
  code: string;
  reason?: string;
  bytesParsed?: number;
}

interface HttpCommon {
  HTTPParser: {
    new (): NodeHttpParser;
    REQUEST: number;
    RESPONSE: number;
    kOnMessageBegin: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
    kLenientNone: number;
  };
  methods: string[];
  _checkIsHttpToken(s: string): boolean;
  _checkInvalidHeaderChar(s: string): boolean;
}

const common = createRequire(import.meta.url)('_http_common') as HttpCommon;

/** The parser class and its callback slots. */
export const HTTPParser = common.HTTPParser;
/**
 * Method names by llhttp's method number (its public `llhttp_method` enum). node exports only the HTTP
 * ones, densely numbered 0–33 and then QUERY, which llhttp numbers 46 after PRI and the RTSP methods.
 */
export const METHODS: readonly string[] = [
  ...common.methods.slice(0, 34),
  'PRI',
  'DESCRIBE',
  'ANNOUNCE',
  'SETUP',
  'PLAY',
  'PAUSE',
  'TEARDOWN',
  'GET_PARAMETER',
  'SET_PARAMETER',
  'REDIRECT',
  'RECORD',
  'FLUSH',
  ...common.methods.slice(34),
];
/** True when `s` is a valid header name (an RFC 9110 token). */
export const isHttpToken = common._checkIsHttpToken;
/** True when `s` holds a character a header value may not carry. */
export const hasInvalidHeaderChar = common._checkInvalidHeaderChar;

/** Frees `p` once the current `execute()` has returned (callers may be inside one of its callbacks). */
export function closeParserSoon(p: NodeHttpParser): void {
  setImmediate(closeParser, p);
}

function closeParser(p: NodeHttpParser): void {
  p.close();
}
