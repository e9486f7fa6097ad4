// A real OpenID provider (panva's oidc-provider) on loopback, for the single
// sign-on tests: `node provider.js` with its settings in the environment.
//   SSO_TEST_PORT          the port to listen on (127.0.0.1)
//   SSO_TEST_REDIRECT_URIS the relying party's callbacks, comma-separated, registered
//                          for every client
//   SSO_TEST_CLIENT_SECRET the secret of every client
// Clients: "app" (the normal one), "expired" (its ID tokens expired minutes ago,
// as from a provider whose clock is behind) and "wrong-audience" (its ID tokens
// name another audience): both signed with the provider's own key, as a confused
// or hostile provider would send them; and "forged" (its ID tokens' signatures
// are by another key).
// Users (log in with the login name, any password): alice (verified, groups
// staff and ops), bob (verified, a group nobody maps), carol (unverified email),
// dave (verified, another domain); and any login that is an address at
// example.com: that address, verified, in the group staff (each browser test
// signs in as a user of its own). It prints "listening <issuer>" when ready.
import { generateKeyPair, exportJWK, SignJWT, decodeJwt } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.SSO_TEST_PORT);
const redirectUris = (process.env.SSO_TEST_REDIRECT_URIS || '').split(',').filter(Boolean);
const clientSecret = process.env.SSO_TEST_CLIENT_SECRET;
if (!port || !redirectUris.length || !clientSecret) {
  console.error('set SSO_TEST_PORT, SSO_TEST_REDIRECT_URIS and SSO_TEST_CLIENT_SECRET');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const users = {
  alice: { email: 'Alice@Example.com', email_verified: true, groups: ['staff', 'ops'] },
  bob: { email: 'bob@example.com', email_verified: true, groups: ['unmapped'] },
  carol: { email: 'carol@example.com', email_verified: false, groups: ['staff'] },
  dave: { email: 'dave@elsewhere.org', email_verified: true, groups: ['staff'] },
};

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };

const client = (clientId) => ({
  client_id: clientId,
  client_secret: clientSecret,
  redirect_uris: redirectUris,
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
});

const provider = new Provider(issuer, {
  clients: [client('app'), client('expired'), client('wrong-audience'), client('forged')],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['sso-test-cookie-key'] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
  scopes: ['openid', 'email', 'groups'],
  // The claims go into the ID token itself, as most providers put them.
  conformIdTokenClaims: false,
  ttl: { IdToken: 3600 },
  async findAccount(ctx, id) {
    const user = users[id]
      ?? (/^[a-z0-9._-]+@example\.com$/.test(id)
        ? { email: id, email_verified: true, groups: ['staff'] }
        : undefined);
    if (!user) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...user }) };
  },
});

// The ID tokens of the "wrong-audience" and "expired" clients: signed again with
// the provider's key, with another audience, or times a few minutes behind; the
// "forged" client's: signed by a key the provider does not publish, under the
// name of the one it does.
const { privateKey: forgerKey } = await generateKeyPair('RS256');
const altered = {
  'wrong-audience': (claims) => ({ ...claims, aud: 'someone-else' }),
  expired: (claims) => ({ ...claims, iat: claims.iat - 300, exp: claims.iat - 240 }),
  forged: (claims) => claims,
};
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/token' || ctx.status !== 200 || !ctx.body?.id_token) return;
  const alter = altered[ctx.oidc?.client?.clientId];
  if (!alter) return;
  ctx.body.id_token = await new SignJWT(alter(decodeJwt(ctx.body.id_token)))
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
    .sign(ctx.oidc.client.clientId === 'forged' ? forgerKey : privateKey);
});

const server = provider.listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
