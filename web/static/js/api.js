// The node's GraphQL API, with the signed-in credential (kept for this tab in sessionStorage).

const TOKEN_KEY = "catalogue.token";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(message, errors = []) {
    super(message);
    this.errors = errors;  // the API's error objects, with their `path`
  }
}

/** Run a GraphQL document; resolves to `data`, rejects with the API's messages. */
export async function graphql(query, variables = {}) {
  const headers = {"Content-Type": "application/json", Accept: "application/json"};
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const reply = await fetch("/graphql", {method: "POST", headers, body: JSON.stringify({query, variables})});
  let body;
  try {
    body = await reply.json();
  } catch {
    throw new ApiError(`The node answered ${reply.status} without JSON.`);
  }
  if (body.errors && body.errors.length) throw new ApiError(body.errors.map((e) => e.message).join("; "), body.errors);
  if (!reply.ok) throw new ApiError((body.error && body.error.message) || `The node answered ${reply.status}.`);
  return body.data;
}

/** Who the node takes the caller for: {anonymous, subject, roles}. */
export async function whoAmI() {
  return (await graphql("{ me { anonymous subject roles } }")).me;
}
