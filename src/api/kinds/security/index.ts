// Registers the security.istio.io kinds.
import { registerKinds } from '../registry.js';
import { peerAuthenticationKind } from './peer-authentication.js';
import { requestAuthenticationKind } from './request-authentication.js';
import { authorizationPolicyKind } from './authorization-policy.js';

registerKinds([peerAuthenticationKind, requestAuthenticationKind, authorizationPolicyKind]);
