#!/usr/bin/env node
// Writes dist/src/xds/envoy-descriptor.json: the Envoy protos Mizzen loads (src/xds/protos.ts's
// PROTO_FILES, from @grpc/grpc-js-xds), parsed once at build time, as protobufjs JSON. Processes load
// it instead of parsing the .proto files, and keep no proto source text in memory. Run by `npm run build`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const { envoyDescriptorJson, ENVOY_DESCRIPTOR_URL } = await import('../dist/src/xds/protos.js');
writeFileSync(ENVOY_DESCRIPTOR_URL, envoyDescriptorJson());
console.log(`envoy descriptor: ${fileURLToPath(ENVOY_DESCRIPTOR_URL)}`);
