// Verifies a labd certificate (compact JWS, typ vc+jwt, EdDSA) with the jose
// package against a JWKS file, as a third party would, and prints the
// protected header and payload as JSON. Usage: node verify.mjs CERT.jwt JWKS.json ISSUER
import { readFileSync } from 'node:fs';
import { jwtVerify, createLocalJWKSet, calculateJwkThumbprint } from 'jose';

const [jwtFile, jwksFile, issuer] = process.argv.slice(2);
const token = readFileSync(jwtFile, 'utf8').trim();
const jwks = JSON.parse(readFileSync(jwksFile, 'utf8'));
try {
  for (const k of jwks.keys) {
    const tp = await calculateJwkThumbprint(k, 'sha256');
    if (tp !== k.kid) throw new Error(`kid ${k.kid} is not the RFC 7638 thumbprint ${tp}`);
  }
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
    algorithms: ['EdDSA'],
    typ: 'vc+jwt',
    issuer,
    currentDate: process.env.NOW ? new Date(process.env.NOW) : undefined,
  });
  process.stdout.write(JSON.stringify({ protectedHeader, payload }));
} catch (e) {
  process.stderr.write(`${e.code || e.name}: ${e.message}\n`);
  process.exit(1);
}
