// envoy.type.matcher.v3.MetadataMatcher / ValueMatcher over dynamic metadata (JWT payloads and the like).
import type {
  envoy_type_matcher_v3_MetadataMatcher as MetadataMatcherConfig,
  envoy_type_matcher_v3_ValueMatcher as ValueMatcherConfig,
} from '../../xds/envoy-types.js';
import { StringMatcher } from '../matchers/string-matcher.js';

/** Dynamic metadata of a request: filter namespace → struct (plain JSON values). */
export type DynamicMetadata = Record<string, Record<string, unknown>>;

/** A compiled ValueMatcher. */
export class ValueMatcher {
  private readonly str: StringMatcher | null = null;
  private readonly present: boolean | null = null;
  private readonly isNull: boolean = false;
  private readonly bool: boolean | null = null;
  private readonly range: { start: number; end: number } | null = null;
  private readonly exactNum: number | null = null;
  private readonly oneOf: ValueMatcher | null = null;
  private readonly or: readonly ValueMatcher[] | null = null;

  constructor(v: ValueMatcherConfig | null | undefined) {
    if (v?.stringMatch) this.str = new StringMatcher(v.stringMatch);
    else if (v?.presentMatch !== undefined) this.present = v.presentMatch === true;
    else if (v?.nullMatch !== undefined) this.isNull = true;
    else if (v?.boolMatch !== undefined) this.bool = v.boolMatch === true;
    else if (v?.doubleMatch?.range)
      this.range = {
        start: Number(v.doubleMatch.range.start ?? 0),
        end: Number(v.doubleMatch.range.end ?? 0),
      };
    else if (v?.doubleMatch) this.exactNum = Number(v.doubleMatch.exact ?? 0);
    else if (v?.listMatch) this.oneOf = new ValueMatcher(v.listMatch.oneOf ?? {});
    else if (v?.orMatch) this.or = (v.orMatch.valueMatchers ?? []).map((m) => new ValueMatcher(m));
    else throw new Error(`unsupported value matcher ${JSON.stringify(v)}`);
  }

  /** Tests a metadata value (undefined = absent). */
  match(value: unknown): boolean {
    if (this.present !== null) return (value !== undefined) === this.present;
    if (value === undefined) return false;
    if (this.str !== null) return typeof value === 'string' && this.str.match(value);
    if (this.isNull) return value === null;
    if (this.bool !== null) return value === this.bool;
    if (this.range !== null)
      return typeof value === 'number' && value >= this.range.start && value < this.range.end;
    if (this.exactNum !== null) return value === this.exactNum;
    if (this.oneOf !== null) return Array.isArray(value) && value.some((e) => this.oneOf!.match(e));
    if (this.or !== null) return this.or.some((m) => m.match(value));
    return false;
  }
}

/** A compiled MetadataMatcher: `filter` namespace, key path into its struct, value matcher, invert. */
export class MetadataMatcher {
  private readonly filter: string;
  private readonly path: readonly string[];
  private readonly value: ValueMatcher;
  private readonly invert: boolean;

  constructor(m: MetadataMatcherConfig | null | undefined) {
    this.filter = m?.filter ?? '';
    this.path = (m?.path ?? []).map((p) => p.key ?? '');
    if (!m || !this.filter || this.path.length === 0)
      throw new Error('metadata matcher needs filter and path');
    this.value = new ValueMatcher(m.value ?? {});
    this.invert = m.invert === true;
  }

  /** Tests the request's dynamic metadata (null = none). */
  match(md: DynamicMetadata | null): boolean {
    let v: unknown = md?.[this.filter];
    for (let i = 0; i < this.path.length && v !== undefined; i++)
      v =
        v !== null && typeof v === 'object' && !Array.isArray(v)
          ? (v as Record<string, unknown>)[this.path[i]]
          : undefined;
    return this.value.match(v) !== this.invert;
  }
}
