// The sign-in box every page shows: a token or API key, sent as `Authorization: Bearer`.
import {setToken, token, whoAmI} from "./api.js";
import {clear, h} from "./dom.js";

/** Render the sign-in form into `root`; resolves to the caller's identity, and calls
 * `onChange(me)` after every sign-in or sign-out. */
export async function mountSession(root, onChange = () => {}) {
  const status = h("span", {id: "session-status", role: "status"});
  const field = h("input", {id: "token", type: "password", autocomplete: "off", size: 24,
                            placeholder: "token or API key"});
  const signOut = h("button", {type: "button", id: "sign-out"}, "Sign out");
  const form = h("form", {class: "session", "aria-label": "Sign in"},
    h("label", {for: "token"}, "Token"), field, h("button", {type: "submit"}, "Sign in"), signOut, status);
  clear(root, form);

  async function refresh() {
    let me;
    try {
      me = await whoAmI();
    } catch (error) {
      setToken("");
      me = await whoAmI();
      status.textContent = `Sign-in refused: ${error.message}`;
      onChange(me);
      return me;
    }
    status.textContent = me.anonymous ? "Not signed in" : `Signed in as ${me.subject} (${me.roles.join(", ") || "no roles"})`;
    signOut.hidden = me.anonymous;
    onChange(me);
    return me;
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setToken(field.value.trim());
    field.value = "";
    refresh();
  });
  signOut.addEventListener("click", () => {
    setToken("");
    refresh();
  });
  if (!token()) signOut.hidden = true;
  return refresh();
}
