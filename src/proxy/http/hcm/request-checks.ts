// Envoy's codec-level request checks that node's parsers leave to us: header count and size, Host
// presence and uniqueness, HTTP/1.0 acceptance, Transfer-Encoding, CONNECT.
import type { H1RequestHead } from '../downstream/h1-request.js';
import { ProxyErrorCode } from '../local-reply.js';
import type { CodecOptions } from './codec-options.js';

/** The local reply an HTTP/1.x request head earns, or -1 when it may proceed. */
export function checkH1Request(req: H1RequestHead, o: CodecOptions): ProxyErrorCode | -1 {
  const raw = req.rawHeaders;
  if (raw.length / 2 > o.maxHeadersCount) return ProxyErrorCode.TooManyHeaders;
  const http10 = req.httpVersionMajor === 1 && req.httpVersionMinor === 0;
  if (http10 && !o.acceptHttp10) return ProxyErrorCode.Http10NotAccepted;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 4 && raw[i].toLowerCase() === 'host') hosts++;
  if (hosts > 1) return ProxyErrorCode.DuplicateHost;
  if (hosts === 0 && !http10) {
    const url = req.url;
    // An absolute-form target carries the authority itself.
    if (url.charCodeAt(0) === 47 || url === '*') return ProxyErrorCode.MissingHost;
  }
  if (hosts === 0 && http10 && o.defaultHostForHttp10 !== '') req.headers['host'] = o.defaultHostForHttp10;
  const te = req.headers['transfer-encoding'];
  // Envoy supports only `chunked` (llhttp already refuses codings that do not end in chunked).
  if (te !== undefined && String(te).trim().toLowerCase() !== 'chunked')
    return ProxyErrorCode.UnsupportedTransferEncoding;
  return -1;
}

/** The local reply an HTTP/2 request head earns, or -1. `rawHeaders` alternates names and values. */
export function checkH2Request(method: string, rawHeaders: string[], o: CodecOptions): ProxyErrorCode | -1 {
  let count = 0;
  let bytes = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].charCodeAt(0) !== 58) count++;
    bytes += rawHeaders[i].length + rawHeaders[i + 1].length;
  }
  if (count > o.maxHeadersCount || bytes > o.maxRequestHeadersBytes) return ProxyErrorCode.TooManyHeaders;
  // CONNECT needs an upgrade config (Envoy: 403 upgrade_failed); none is supported here.
  if (method === 'CONNECT') return ProxyErrorCode.ConnectRejected;
  return -1;
}

/**
 * Status for a node:http parse error (llhttp code and reason): Envoy's 431 for oversized heads, 501
 * for a transfer coding other than chunked, 400 for the rest (Content-Length with Transfer-Encoding
 * stays 400: that is request smuggling, not an unsupported coding).
 */
export function parseErrorStatus(code: string | undefined, reason: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'HPE_INVALID_TRANSFER_ENCODING' && !/content-length/i.test(reason ?? '')) return 501;
  return 400;
}

/**
 * Envoy's response code details for an HTTP/1.1 codec error (Http1ResponseCodeDetails), from the
 * llhttp error code node:http reports; `http1.codec_error` for the rest.
 */
export function parseErrorDetails(code: string | undefined, status: number): string {
  if (status === 431) return 'http1.headers_too_large';
  if (status === 501) return 'http1.invalid_transfer_encoding';
  // Content-Length beside Transfer-Encoding (llhttp reports it under either code).
  if (code === 'HPE_UNEXPECTED_CONTENT_LENGTH' || code === 'HPE_INVALID_TRANSFER_ENCODING')
    return 'http1.content_length_and_chunked_not_allowed';
  if (code === 'HPE_INVALID_HEADER_TOKEN') return 'http1.invalid_characters';
  if (code === 'HPE_INVALID_URL') return 'http1.invalid_url';
  return 'http1.codec_error';
}
