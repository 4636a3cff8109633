/**
 * What a bearer token may hold: the characters of RFC 6750's b64token, so it
 * fits an `authorization` header as is. One rule for the orchestrator's token
 * lists and for every client that sends one.
 */
export const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export const BEARER_TOKEN_RULE = "may hold only letters, digits and - . _ ~ + / (with = at the end)";

export function isBearerToken(token: string): boolean {
  return BEARER_TOKEN.test(token);
}
