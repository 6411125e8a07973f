// The sign-in box every page shows: a token or API key, sent as `Authorization: Bearer`; and,
// when the node has an OpenID Connect issuer, "Sign in with <issuer>", whose node token comes
// back in the URL fragment (`#session=...`) and is kept like a pasted one.
import {setToken, token, whoAmI} from "./api.js";
import {clear, h} from "./dom.js";

/** Take the node token a sign-in with the issuer left in the fragment, and drop it from the
 * address bar (and so from history and bookmarks). */
function takeSignInToken() {
  const found = /^#session=([^&]+)$/.exec(location.hash);
  if (!found) return;
  setToken(decodeURIComponent(found[1]));
  history.replaceState(null, "", location.pathname + location.search);
}

async function signInConfig() {
  try {
    const reply = await fetch("/auth/config", {headers: {Accept: "application/json"}});
    return reply.ok ? await reply.json() : {enabled: false};
  } catch {
    return {enabled: false};
  }
}

function issuerLink(config) {
  if (!config.enabled) return null;
  const back = encodeURIComponent(location.pathname + location.search);
  return h("a", {id: "sign-in-issuer", class: "button", href: `${config.login}?return_to=${back}`},
    `Sign in with ${config.name}`);
}

/** Render the sign-in form into `root`; resolves to the caller's identity, and calls
 * `onChange(me)` after every sign-in or sign-out. Other modules of the page hear the same as a
 * `catalogue:identity` event on `document` (detail: the identity). */
export async function mountSession(root, onChange = () => {}) {
  takeSignInToken();
  const config = await signInConfig();
  const status = h("span", {id: "session-status", role: "status"});
  const field = h("input", {id: "token", type: "password", autocomplete: "off", size: 24,
                            placeholder: "token or API key"});
  const signOut = h("button", {type: "button", id: "sign-out"}, "Sign out");
  const issuer = issuerLink(config);
  const form = h("form", {class: "session", "aria-label": "Sign in"},
    h("label", {for: "token"}, "Token"), field, h("button", {type: "submit"}, "Sign in"), issuer,
    signOut, status);
  clear(root, form);

  let asked = 0;  // answers to an earlier question than the latest are not shown
  async function refresh() {
    const mine = ++asked;
    let me;
    try {
      me = await whoAmI();
    } catch (error) {
      setToken("");
      me = await whoAmI();
      if (mine !== asked) return me;
      status.textContent = `Sign-in refused: ${error.message}`;
      announce(me, onChange);
      return me;
    }
    if (mine !== asked) return me;
    status.textContent = me.anonymous ? "Not signed in" : `Signed in as ${me.subject} (${me.roles.join(", ") || "no roles"})`;
    signOut.hidden = me.anonymous;
    if (issuer) issuer.hidden = !me.anonymous;
    announce(me, onChange);
    return me;
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setToken(field.value.trim());
    field.value = "";
    refresh();
  });
  signOut.addEventListener("click", async () => {
    if (config.enabled && token()) {
      // The node refuses its own sign-in token from now on; other credentials are just forgotten.
      await fetch("/auth/logout", {method: "POST", headers: {Authorization: `Bearer ${token()}`}})
        .catch(() => {});
    }
    setToken("");
    refresh();
  });
  if (!token()) signOut.hidden = true;
  return refresh();
}

function announce(me, onChange) {
  onChange(me);
  document.dispatchEvent(new CustomEvent("catalogue:identity", {detail: me}));
}
