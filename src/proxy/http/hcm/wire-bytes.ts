// Request and response sizes as Istio's istio.stats reports them (istio_request_bytes /
// istio_response_bytes): the downstream stream's bytes on the wire, headers included, not just the
// body. HTTP/1.x heads are measured as sent; HTTP/2 heads as Envoy's header map byte size (names and
// values, pseudo-headers included), since HPACK's compressed size is not visible through node:http2.

/** Bytes of an HTTP/1.x request head: request line, each header line as received, the blank line. */
export function h1RequestHeadBytes(
  method: string,
  url: string,
  httpVersion: string,
  rawHeaders: readonly string[],
): number {
  // "METHOD SP url SP HTTP/x.y CRLF"
  let n = method.length + url.length + httpVersion.length + 9;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) n += rawHeaders[i].length + rawHeaders[i + 1].length + 4;
  return n + 2;
}

/** Envoy's HeaderMap byteSize of an HTTP/2 header block: every name and value, pseudo-headers included. */
export function h2HeaderBytes(rawHeaders: readonly string[]): number {
  let n = 0;
  for (const s of rawHeaders) n += s.length;
  return n;
}

/** The same for a response header object (`:status` counted as Envoy's map holds it). */
export function h2ResponseHeaderBytes(
  status: number,
  headers: Readonly<Record<string, string | string[]>>,
): number {
  let n = 7 + String(status).length;
  for (const k in headers) {
    const v = headers[k];
    if (typeof v === 'string') n += k.length + v.length;
    else for (const x of v) n += k.length + x.length;
  }
  return n;
}
