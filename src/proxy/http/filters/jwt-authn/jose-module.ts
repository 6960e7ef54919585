// The jose library, loaded when a jwt_authn filter is first configured rather than with every proxy:
// most sidecars verify no JWT, and jose (ESM only, so an import() rather than require) costs ~2 MiB.
/** The jose module's namespace. */
export type Jose = typeof import('jose');

let loaded: Jose | undefined;
let loading: Promise<Jose> | undefined;

/** Starts loading jose (once); resolves with it. A compiled jwt_authn filter calls this. */
export function loadJose(): Promise<Jose> {
  return (loading ??= import('jose').then((m) => (loaded = m)));
}

/** jose when it is loaded already (the usual case once a filter was compiled), else the promise of it. */
export function jose(): Jose | Promise<Jose> {
  return loaded ?? loadJose();
}
