// Reading MeshConfig, which pilot takes from the istio ConfigMap as parsed YAML of unchecked shape.

/** A parsed YAML mapping's fields; `{}` for anything else (absent, null, scalar, list). */
export function mapping(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
