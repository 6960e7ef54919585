// Kubernetes ObjectMeta checks shared by every kind.
import { obj, str, record, list, anyValue, int, type Validator } from './schema.js';
import { checkLabelKey, checkLabelValue, isDns1123Label, isDns1123Subdomain } from './checks.js';
import type { ObjectMeta } from './resource.js';

/** Labels: Kubernetes label keys and values. */
export const labels = (): Validator<Record<string, string>> => record(str(checkLabelValue), checkLabelKey);

/** The metadata block; name must be a DNS-1123 subdomain, namespace a DNS-1123 label. */
export const objectMeta = (): Validator<ObjectMeta> =>
  obj<ObjectMeta>({
    name: str((v, at, c) => {
      if (!isDns1123Subdomain(v)) {
        c.error(
          at,
          `must be a lower-case DNS-1123 name (letters, digits, "-", "."), got ${JSON.stringify(v)}`,
        );
      }
    }),
    generateName: str(),
    namespace: str((v, at, c) => {
      if (!isDns1123Label(v))
        c.error(at, `must be a lower-case DNS-1123 label (letters, digits, "-"), got ${JSON.stringify(v)}`);
    }),
    labels: labels(),
    annotations: record(str()),
    uid: str(),
    resourceVersion: str(),
    generation: int(0),
    creationTimestamp: anyValue(),
    deletionTimestamp: anyValue(),
    deletionGracePeriodSeconds: int(0),
    ownerReferences: list(anyValue()),
    finalizers: list(str()),
    managedFields: list(anyValue()),
    selfLink: str(),
  });
