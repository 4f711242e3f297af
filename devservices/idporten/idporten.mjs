// A local ID-porten lookalike for `make run` and the tests. Never deployed.
//
// Built on oidc-provider 8.x (OpenID-certified; the 8.x line runs on Node 20) and configured
// the way ID-porten behaves for a registered web client:
//   - discovery at {issuer}/.well-known/openid-configuration, ID-porten's endpoint paths
//   - authorization code flow only, PKCE S256 required, PAR required for every client
//   - private_key_jwt only (RS256, aud = issuer, exp - iat <= 120 s, kid required)
//   - acr idporten-loa-substantial / idporten-loa-high; pid, locale, sid in the id_token
//   - iss in the authorization response (RFC 9207; always on in oidc-provider 8.x)
//   - RP-initiated logout at /logout, then front-channel logout of every client in the
//     session (see frontChannelPage below: oidc-provider 8.x has no front-channel logout)
// Test persons come from a JSON file (synthetic fødselsnummer, +80 on the month).
//
// Usage: node idporten.mjs CONFIG.json   (written by devservices/idporten/process.py)

import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const persons = JSON.parse(readFileSync(config.persons_file, 'utf8'));
const personsByPid = new Map(persons.map((p) => [p.pid, p]));

const ACR_SUBSTANTIAL = 'idporten-loa-substantial';
const ACR_HIGH = 'idporten-loa-high';
const ACR_RANK = { [ACR_SUBSTANTIAL]: 1, [ACR_HIGH]: 2 };
const ASSERTION_MAX_LIFETIME = 120;

// The provider's own signing key, new per process: the RP must fetch the JWKS, as it must
// with ID-porten (which rotates keys).
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = {
  ...privateKey.export({ format: 'jwk' }),
  kid: randomBytes(8).toString('hex'),
  use: 'sig',
  alg: 'RS256',
};
const pairwiseSecret = randomBytes(32);

const frontchannelByClient = new Map(
  config.clients.map((c) => [c.client_id, c.frontchannel_logout_uri]),
);

function esc(value) {
  return String(value).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html><html lang="nb"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} – ID-porten (lokal testutgave)</title></head>
<body><main><h1>${esc(title)}</h1>
<p><strong>Lokal testutgave av ID-porten.</strong> Bare syntetiske testpersoner.</p>
${body}</main></body></html>`;
}

const provider = new Provider(config.issuer, {
  clients: config.clients.map((c) => ({
    client_id: c.client_id,
    application_type: 'web',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'RS256',
    id_token_signed_response_alg: 'RS256',
    jwks: c.jwks,
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    require_pushed_authorization_requests: true,
    require_auth_time: true, // ID-porten always sends auth_time
    frontchannel_logout_uri: c.frontchannel_logout_uri,
  })),
  jwks: { keys: [signingJwk] },
  routes: {
    authorization: '/authorize',
    token: '/token',
    pushed_authorization_request: '/par',
    end_session: '/logout',
    jwks: '/jwks.json',
    userinfo: '/userinfo',
  },
  responseTypes: ['code'],
  pkce: { methods: ['S256'], required: () => true },
  clientAuthMethods: ['private_key_jwt'],
  enabledJWA: {
    clientAuthSigningAlgValues: ['RS256'],
    idTokenSigningAlgValues: ['RS256'],
  },
  acrValues: [ACR_SUBSTANTIAL, ACR_HIGH],
  scopes: ['openid', 'profile'],
  claims: { openid: ['sub', 'pid', 'locale', 'amr'], profile: [] },
  // ID-porten puts pid in the id_token of the code flow; the spec default would keep
  // scope-requested claims for userinfo only.
  conformIdTokenClaims: false,
  extraClientMetadata: {
    // oidc-provider 8.x no longer knows front-channel logout; keep the URI as client metadata.
    properties: ['frontchannel_logout_uri'],
  },
  features: {
    devInteractions: { enabled: false },
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
    userinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = page(
          'Logg ut',
          `${form}<p>Du logges ut av ID-porten og alle tjenester i denne økten.</p>
<button form="op.logoutForm" type="submit" name="logout" value="yes">Logg ut</button>`,
        );
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Logget ut', '<p>Du er logget ut.</p>');
      },
    },
  },
  async assertJwtClientAuthClaimsAndHeader(ctx, claims, header) {
    // ID-porten's rules, stricter than RFC 7523: aud is the issuer itself, the assertion
    // lives at most 120 s, and the registered key is found by kid.
    const { errors } = Provider;
    if (claims.aud !== config.issuer) {
      throw new errors.InvalidClientAuth('aud must be the issuer identifier');
    }
    if (typeof claims.iat !== 'number' || claims.exp - claims.iat > ASSERTION_MAX_LIFETIME) {
      throw new errors.InvalidClientAuth('client assertion must live at most 120 s');
    }
    if (claims.sub !== claims.iss) {
      throw new errors.InvalidClientAuth('sub must be the client_id');
    }
    if (!header.kid) {
      throw new errors.InvalidClientAuth('kid header required');
    }
  },
  async findAccount(ctx, id) {
    const person = personsByPid.get(id);
    if (!person) return undefined;
    return {
      accountId: id,
      async claims(use, scope, claims, rejected) {
        // sub is pairwise per client, as in ID-porten.
        const clientId = ctx.oidc.client ? ctx.oidc.client.clientId : '';
        const sub = createHmac('sha256', pairwiseSecret).update(`${clientId}\0${id}`).digest('base64url');
        return { sub, pid: id, locale: 'nb' };
      },
    };
  },
  async loadExistingGrant(ctx) {
    // ID-porten asks no consent for openid/profile: grant just in time after login.
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    if (!ctx.oidc.session.accountId) return undefined;
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile');
    await grant.save();
    return grant;
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Feil', `<p>${esc(out.error)}: ${esc(out.error_description || '')}</p>`);
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  ttl: {
    AuthorizationCode: 60,
    AccessToken: 120,
    IdToken: 120,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
});

// ID-porten always puts sid in the id_token; oidc-provider only does so for clients that
// registered back-channel logout, so switch it on for all.
provider.Client.prototype.includeSid = () => true;

function readForm(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      data += chunk;
      if (data.length > 10000) reject(new Error('form too large'));
    });
    req.on('end', () => resolve(new URLSearchParams(data)));
    req.on('error', reject);
  });
}

function requestedAcr(details) {
  const values = String(details.params.acr_values || ACR_SUBSTANTIAL).split(' ');
  return values.reduce((a, b) => ((ACR_RANK[b] || 0) > (ACR_RANK[a] || 0) ? b : a), ACR_SUBSTANTIAL);
}

function loginPage(uid, details) {
  const minimum = requestedAcr(details);
  const people = persons.map((p, i) => `<li><label><input type="radio" name="pid" value="${esc(p.pid)}"${i === 0 ? ' checked' : ''}>
${esc(p.name)}, ${esc(p.age)} år <span data-pid="${esc(p.pid)}">(${esc(p.pid)})</span></label></li>`).join('\n');
  const levels = [ACR_SUBSTANTIAL, ACR_HIGH]
    .filter((a) => ACR_RANK[a] >= ACR_RANK[minimum])
    .map((a) => `<option value="${a}"${a === minimum ? ' selected' : ''}>${a}</option>`).join('');
  return page('Velg testperson', `<form method="post" action="/interaction/${esc(uid)}/login">
<fieldset><legend>Testperson</legend><ul>${people}</ul></fieldset>
<p><label for="acr">Sikkerhetsnivå</label> <select id="acr" name="acr">${levels}</select></p>
<button type="submit">Logg inn</button></form>`);
}

// Front-channel logout, done by hand: after a confirmed logout, instead of redirecting at
// once, answer with a page that loads every logged-in client's frontchannel_logout_uri
// with iss and sid in an iframe (as ID-porten does) and then moves on by meta refresh.
// No script: the page works under a strict CSP.
provider.on('end_session.success', (ctx) => {
  const authorizations = ctx.oidc.session?.authorizations || {};
  ctx.state.frontchannel = Object.entries(authorizations)
    .map(([clientId, auth]) => ({ uri: frontchannelByClient.get(clientId), sid: auth.sid }))
    .filter((t) => t.uri && t.sid);
});

function frontChannelPage(targets, next) {
  const frames = targets.map((t) => {
    const u = new URL(t.uri);
    u.searchParams.set('iss', config.issuer);
    u.searchParams.set('sid', t.sid);
    return `<iframe title="utlogging" src="${esc(u.href)}" width="1" height="1"></iframe>`;
  }).join('\n');
  return page('Logger ut', `${frames}
<p><a id="continue" href="${esc(next)}">Fortsett</a></p>`).replace(
    '<head>',
    `<head><meta http-equiv="refresh" content="2;url=${esc(next)}">`,
  );
}

provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(ctx.path);
  if (!match) {
    await next();
    const targets = ctx.state.frontchannel;
    if (targets && targets.length && ctx.status === 303) {
      const location = ctx.response.get('Location');
      ctx.status = 200;
      ctx.type = 'html';
      ctx.body = frontChannelPage(targets, location);
      ctx.remove('Location');
    }
    return;
  }
  const [, uid, isLogin] = match;
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) ctx.throw(400, 'interaction mismatch');
  if (!isLogin && ctx.method === 'GET') {
    if (details.prompt.name !== 'login') {
      // Consent is granted just in time (loadExistingGrant); nothing to ask.
      await provider.interactionFinished(ctx.req, ctx.res, {}, { mergeWithLastSubmission: true });
      return;
    }
    ctx.type = 'html';
    // No form-action: Chromium applies it to the redirects after the POST too, which would
    // block the way back to the relying party (real ID-porten does not restrict it).
    ctx.set('Content-Security-Policy', "default-src 'none'");
    ctx.body = loginPage(uid, details);
    return;
  }
  if (isLogin && ctx.method === 'POST') {
    const form = await readForm(ctx.req);
    const pid = form.get('pid');
    const acr = form.get('acr');
    if (!personsByPid.has(pid)) ctx.throw(400, 'unknown test person');
    if (!ACR_RANK[acr] || ACR_RANK[acr] < ACR_RANK[requestedAcr(details)]) {
      ctx.throw(400, 'acr below the requested level');
    }
    await provider.interactionFinished(ctx.req, ctx.res, {
      login: { accountId: pid, acr, amr: ['TestID'], remember: true },
    }, { mergeWithLastSubmission: false });
    return;
  }
  ctx.throw(405);
});

provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`idporten-lookalike listening ${config.issuer}\n`);
});
