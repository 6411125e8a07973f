// A real OpenID Connect provider for the sign-in tests: panva's certified oidc-provider, whose
// interaction signs in the test's chosen account at once instead of showing a login form.
//
//   node provider.mjs CONFIG.json
//
// CONFIG: {"clients": [...], "jwks": {"keys": [private JWK]}, "accounts": {"id": {claims}},
//          "next": "id"}. Listens on a free port of 127.0.0.1 and prints `issuer <url>` once
// ready. `POST /_test/next` with {"account": "id"} (or "deny") picks who the next sign-in is.
import fs from "node:fs";
import http from "node:http";
import Provider from "oidc-provider";

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const accounts = config.accounts;
let next = config.next;

function providerFor(issuer) {
  return new Provider(issuer, {
    clients: config.clients,
    jwks: config.jwks,
    scopes: ["openid", "profile", "groups"],
    claims: {openid: ["sub"], profile: ["name"], groups: ["groups", "roles"]},
    conformIdTokenClaims: false, // the ID token carries the scope's claims (the node reads no userinfo)
    findAccount: (_ctx, id) => accounts[id] && {accountId: id, claims: () => ({sub: id, ...accounts[id]})},
    features: {devInteractions: {enabled: false}},
    interactions: {url: (_ctx, interaction) => `/interaction/${interaction.uid}`},
    pkce: {required: () => true},
    cookies: {keys: ["test-only-cookie-key"]},
    ttl: {IdToken: config.idTokenSeconds ?? 3600},
  });
}

async function signIn(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  if (next === "deny") {
    const refusal = {error: "access_denied", error_description: "the user refused"};
    return provider.interactionFinished(req, res, refusal, {mergeWithLastSubmission: false});
  }
  const grant = new provider.Grant({accountId: next, clientId: details.params.client_id});
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, {login: {accountId: next}, consent: {grantId}});
}

async function choose(req, res) {
  let body = "";
  for await (const chunk of req) body += chunk;
  next = JSON.parse(body).account;
  res.writeHead(204).end();
}

const server = http.createServer();
server.listen(0, "127.0.0.1", () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = providerFor(issuer);
  provider.on("server_error", (_ctx, error) => console.error("server_error", error));
  const handle = provider.callback();
  server.on("request", (req, res) => {
    const done = (error) => { console.error(error); res.writeHead(500).end(String(error)); };
    if (req.url.startsWith("/interaction/")) return signIn(provider, req, res).catch(done);
    if (req.method === "POST" && req.url === "/_test/next") return choose(req, res).catch(done);
    return handle(req, res);
  });
  console.log(`issuer ${issuer}`);
});
