// A development OpenID provider for Samspil: the certified `oidc-provider` package with
// the demo staff in users.json. It lets a newcomer sign in to the web app after
// `make run`, and it is the real provider the test suite signs in against.
//
// NEVER for production: every demo user's password is in users.json, keys live in
// memory, and the discovery document says `samspil_development_provider: true`, which
// makes the gateway refuse it when SAMSPIL_ENV=production.
//
// Settings (environment):
//   OIDC_DEV_ISSUER          http://127.0.0.1:8900 (the port is taken from it)
//   OIDC_DEV_CLIENT_ID       samspil-web
//   OIDC_DEV_CLIENT_SECRET   dev-secret-not-for-production
//   OIDC_DEV_REDIRECT_URIS   comma-separated; default http://127.0.0.1:8000/auth/callback
//   OIDC_DEV_AUDIENCE        urn:samspil:api (the API's resource indicator / audience)
//   OIDC_DEV_TOKEN_TTL       access and ID token lifetime in seconds (default 600)
//   OIDC_DEV_USERS           path of the users file (default ./users.json)
//   OIDC_DEV_SHORT_CLIENT    "1": add the client samspil-short-lived (same secret), whose
//                            tokens live 2 seconds (the test suite's expired tokens)
//   OIDC_DEV_LOOPBACK_PORTS  "any": accept http://127.0.0.1:<any port>/auth/callback as a
//                            redirect URI (the test suite starts gateways on free ports)

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const here = dirname(fileURLToPath(import.meta.url));
const env = process.env;
const issuer = env.OIDC_DEV_ISSUER || 'http://127.0.0.1:8900';
const clientId = env.OIDC_DEV_CLIENT_ID || 'samspil-web';
const clientSecret = env.OIDC_DEV_CLIENT_SECRET || 'dev-secret-not-for-production';
const redirectUris = (env.OIDC_DEV_REDIRECT_URIS || 'http://127.0.0.1:8000/auth/callback')
  .split(',').map((u) => u.trim()).filter(Boolean);
const audience = env.OIDC_DEV_AUDIENCE || 'urn:samspil:api';
// A second resource, so tests can ask for a token meant for another API (wrong audience).
const otherAudience = 'urn:samspil:other-api';
const ttl = Number(env.OIDC_DEV_TOKEN_TTL || 600);
const users = JSON.parse(readFileSync(env.OIDC_DEV_USERS || join(here, 'users.json'), 'utf8'));
const byLogin = new Map(users.map((u) => [u.login, u]));

function claimsOf(user) {
  return {
    sub: user.login,
    preferred_username: user.login,
    name: user.name,
    email: user.email,
    phone_number: user.phone,
    groups: user.groups,
    agency: user.agency,
    ...(user.partner_id ? { partner_id: user.partner_id } : {}),
  };
}

const webClient = {
  client_id: clientId,
  client_secret: clientSecret,
  redirect_uris: redirectUris,
  post_logout_redirect_uris: redirectUris.map((u) => new URL('/', u).href),
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
};
const shortClientId = 'samspil-short-lived';
const clients = [webClient];
if (env.OIDC_DEV_SHORT_CLIENT === '1') clients.push({ ...webClient, client_id: shortClientId });

function lifetime(client) {
  return client && client.clientId === shortClientId ? 2 : ttl;
}

const configuration = {
  clients,
  // Authorization code flow with PKCE (S256) for every client.
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'groups', 'agency', 'phone_number', 'partner_id'],
    email: ['email'],
  },
  conformIdTokenClaims: false, // the ID token carries the profile claims itself
  scopes: ['openid', 'profile', 'email', 'offline_access', 'samspil'],
  async findAccount(ctx, id) {
    const user = byLogin.get(id);
    if (!user) return undefined;
    return { accountId: id, async claims() { return claimsOf(user); } };
  },
  features: {
    devInteractions: { enabled: false }, // our own pages below check the password
    rpInitiatedLogout: {
      enabled: true,
      // Ask in Danish whether to end the provider's session too.
      async logoutSource(ctx, form) {
        ctx.body = `<!doctype html>
<html lang="da"><head><meta charset="utf-8"><title>Log ud</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Log ud</h1>
<p>Du er logget ud af Samspil. Vil du også logge ud af kommunens log ind?</p>
${form}
<p><button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Ja, log ud</button>
<button type="submit" form="op.logoutForm">Nej</button></p>
</main></body></html>`;
      },
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      async getResourceServerInfo(ctx, resourceIndicator, client) {
        if (resourceIndicator !== audience && resourceIndicator !== otherAudience) {
          throw new Error(`unknown resource ${resourceIndicator}`);
        }
        return {
          scope: 'samspil',
          audience: resourceIndicator,
          accessTokenTTL: lifetime(client),
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  // The API authorises on the staff member's groups: put them in the access token.
  async extraTokenClaims(ctx, token) {
    const user = byLogin.get(token.accountId);
    if (!user) return undefined;
    const { sub, ...rest } = claimsOf(user);
    return rest;
  },
  ttl: {
    AccessToken: (ctx, token, client) => lifetime(client),
    IdToken: ttl,
    Interaction: 600,
    Session: 8 * 3600,
    Grant: 8 * 3600,
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  discovery: { samspil_development_provider: true },
  // Skip the consent screen: Samspil's web app is the municipality's own client.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email offline_access');
    grant.addResourceScope(audience, 'samspil');
    grant.addResourceScope(otherAudience, 'samspil');
    await grant.save();
    return grant;
  },
};

const provider = new Provider(issuer, configuration);
provider.proxy = true;

if (env.OIDC_DEV_LOOPBACK_PORTS === 'any') {
  // RFC 8252 § 7.3 lets loopback redirect URIs use any port; do so for the web client.
  const allowed = provider.Client.prototype.redirectUriAllowed;
  provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(uri) {
    try {
      const url = new URL(uri);
      if (url.protocol === 'http:' && url.hostname === '127.0.0.1'
          && url.pathname === '/auth/callback' && !url.search && !url.hash) return true;
    } catch { /* not a URL: fall through */ }
    return allowed.call(this, uri);
  };
  const logoutAllowed = provider.Client.prototype.postLogoutRedirectUriAllowed;
  provider.Client.prototype.postLogoutRedirectUriAllowed = function postLogoutAllowed(uri) {
    try {
      const url = new URL(uri);
      if (url.protocol === 'http:' && url.hostname === '127.0.0.1' && url.pathname === '/') {
        return true;
      }
    } catch { /* not a URL */ }
    return logoutAllowed.call(this, uri);
  };
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  }[c]));
}

function loginPage(uid, message) {
  const demo = users.map((u) => `<li><code>${escapeHtml(u.login)}</code>: ${escapeHtml(u.name)}`
    + ` (${escapeHtml(u.groups.join(', '))})</li>`).join('');
  return `<!doctype html>
<html lang="da"><head><meta charset="utf-8"><title>Log ind: Samspil (udvikling)</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main>
<h1>Log ind i Samspil</h1>
<p><strong>Udviklingsudbyder.</strong> Kun til afprøvning; kommunen logger ind gennem sin egen
identitetsudbyder.</p>
${message ? `<p role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
<p><label for="login">Brugernavn</label><br><input id="login" name="login" autofocus required></p>
<p><label for="password">Adgangskode</label><br>
<input id="password" name="password" type="password" required></p>
<p><button type="submit">Log ind</button></p>
</form>
<h2>Demobrugere</h2><p>Adgangskoden er <code>demo</code> for alle.</p><ul>${demo}</ul>
</main></body></html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  ctx.set('cache-control', 'no-store');
  if (ctx.method === 'GET' && !match[2]) {
    if (details.prompt.name === 'login') {
      ctx.type = 'html';
      ctx.body = loginPage(details.uid);
      return undefined;
    }
    // consent (should not happen: loadExistingGrant grants the first-party client).
    const grant = new provider.Grant({ clientId: details.params.client_id,
      accountId: details.session.accountId });
    grant.addOIDCScope('openid profile email offline_access');
    grant.addResourceScope(audience, 'samspil');
    const grantId = await grant.save();
    const redirectTo = await provider.interactionResult(ctx.req, ctx.res,
      { consent: { grantId } }, { mergeWithLastSubmission: true });
    ctx.redirect(redirectTo);
    return undefined;
  }
  if (ctx.method === 'POST' && match[2]) {
    const form = await readForm(ctx.req);
    const user = byLogin.get(form.get('login') || '');
    if (!user || form.get('password') !== user.password) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = loginPage(details.uid, 'Forkert brugernavn eller adgangskode.');
      return undefined;
    }
    const redirectTo = await provider.interactionResult(ctx.req, ctx.res,
      { login: { accountId: user.login } }, { mergeWithLastSubmission: false });
    ctx.redirect(redirectTo);
    return undefined;
  }
  return next();
});

const port = Number(new URL(issuer).port || 80);
provider.listen(port, '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'samspil development OpenID provider ready', issuer,
    users: users.map((u) => u.login) }));
});
