// request/response headers_to_add / headers_to_remove (route, virtual host, route config, weighted cluster).
import type { envoy_config_core_v3_HeaderValueOption as HeaderValueOption } from '../../../xds/envoy-types.js';
import { boolValue } from '../../util/values.js';

/** Mutable header object as the proxy passes it around (lower-case names). */
export type HeaderMap = Record<string, string | string[] | undefined>;

const APPEND = 0;
const ADD_IF_ABSENT = 1;
const OVERWRITE_OR_ADD = 2;
const OVERWRITE_IF_EXISTS = 3;

interface Add {
  key: string;
  value: string;
  action: number;
  keepEmpty: boolean;
}

function actionOf(o: HeaderValueOption): number {
  if (o.append !== undefined && o.append !== null)
    return boolValue(o.append, false) ? APPEND : OVERWRITE_OR_ADD;
  switch (o.appendAction) {
    case 'ADD_IF_ABSENT':
      return ADD_IF_ABSENT;
    case 'OVERWRITE_IF_EXISTS_OR_ADD':
      return OVERWRITE_OR_ADD;
    case 'OVERWRITE_IF_EXISTS':
      return OVERWRITE_IF_EXISTS;
    default:
      return APPEND;
  }
}

/** Envoy's `%%` escape in header values (other %COMMAND% formatters are not expanded). */
function literal(v: string): string {
  return v.replace(/%%/g, '%');
}

/** A compiled set of header additions and removals. */
export class HeaderMutation {
  private readonly adds: Add[];
  private readonly removes: string[];

  constructor(toAdd: readonly HeaderValueOption[] | undefined, toRemove: readonly string[] | undefined) {
    this.adds = (toAdd ?? []).map((o) => {
      const key = String(o.header?.key ?? '').toLowerCase();
      if (!key) throw new Error('header to add needs a key');
      const raw = o.header?.rawValue;
      const value =
        raw !== undefined
          ? (typeof raw === 'string' ? Buffer.from(raw, 'base64') : Buffer.from(raw)).toString('latin1')
          : String(o.header?.value ?? '');
      return { key, value: literal(value), action: actionOf(o), keepEmpty: o.keepEmptyValue === true };
    });
    this.removes = (toRemove ?? []).map((k) => String(k).toLowerCase());
  }

  /** Null when both lists are empty, so callers can skip it on the hot path. */
  static of(
    toAdd: readonly HeaderValueOption[] | undefined,
    toRemove: readonly string[] | undefined,
  ): HeaderMutation | null {
    if ((!toAdd || toAdd.length === 0) && (!toRemove || toRemove.length === 0)) return null;
    return new HeaderMutation(toAdd, toRemove);
  }

  /** Applies removals then additions to `h`. */
  apply(h: HeaderMap): void {
    for (let i = 0; i < this.removes.length; i++) delete h[this.removes[i]];
    for (let i = 0; i < this.adds.length; i++) {
      const a = this.adds[i];
      if (a.value === '' && !a.keepEmpty) continue;
      const cur = h[a.key];
      switch (a.action) {
        case APPEND:
          if (cur === undefined) h[a.key] = a.value;
          else if (typeof cur === 'string') h[a.key] = [cur, a.value];
          else h[a.key] = [...cur, a.value];
          break;
        case ADD_IF_ABSENT:
          if (cur === undefined) h[a.key] = a.value;
          break;
        case OVERWRITE_OR_ADD:
          h[a.key] = a.value;
          break;
        case OVERWRITE_IF_EXISTS:
          if (cur !== undefined) h[a.key] = a.value;
          break;
      }
    }
  }
}
