/**
 * Bearer tokens as operators write them: in a variable (comma-separated) or a
 * file (one per line, `#` comments), each either a bare token or
 * `name=token`. For instance tokens the name binds the token to that instance
 * id; for admin and viewer tokens it only names the holder in logs.
 *
 * Tokens are kept as SHA-256 digests, never as text: a lookup hashes what the
 * client sent and looks the digest up, and nothing that could be logged or
 * dumped holds a usable token. The lookup need not take constant time: how long
 * it takes depends on the digest, and a digest tells nothing about the token
 * bytes that would make a guess closer.
 */
import { createHash } from "node:crypto";
import { BEARER_TOKEN_RULE, isBearerToken } from "../domain/bearer-token.js";

export type Role = "instance" | "viewer" | "admin";

export interface Credential {
  role: Role;
  /** For an instance token: the only instance id it may connect as. Otherwise a label for logs. */
  name?: string;
  digest: Buffer;
}

/** A mistake in a token list: where it is and which rule it breaks (never the token itself). */
export class CredentialError extends Error {
  override name = "CredentialError";
}

/** Long enough that guessing is hopeless, short enough to fit a header. */
export const MIN_TOKEN_LENGTH = 16;
export const MAX_TOKEN_LENGTH = 512;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function digestOf(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/**
 * Parses one list. `source` names it in errors (`INSTANCE_TOKENS`, or a file
 * path with the line number added).
 * @throws CredentialError for an entry that breaks a rule.
 */
export function parseCredentials(role: Role, entries: Array<{ text: string; where: string }>): Credential[] {
  const out: Credential[] = [];
  for (const { text, where } of entries) {
    const entry = text.trim();
    if (entry === "" || entry.startsWith("#")) continue;
    // A token may end in "=" (base64 padding): the name is what precedes the first "=" only if it looks like one.
    const eq = entry.indexOf("=");
    const named = eq > 0 && NAME.test(entry.slice(0, eq)) && entry.slice(eq + 1).length > 0 && !/^=*$/.test(entry.slice(eq + 1));
    const name = named ? entry.slice(0, eq) : undefined;
    const token = named ? entry.slice(eq + 1) : entry;
    if (token.length < MIN_TOKEN_LENGTH || token.length > MAX_TOKEN_LENGTH) {
      throw new CredentialError(`${where}: a token must be ${MIN_TOKEN_LENGTH} to ${MAX_TOKEN_LENGTH} characters long`);
    }
    if (!isBearerToken(token)) {
      throw new CredentialError(`${where}: a token ${BEARER_TOKEN_RULE}`);
    }
    out.push({ role, ...(name ? { name } : {}), digest: digestOf(token) });
  }
  return out;
}

/** The entries of a comma-separated variable. */
export function variableEntries(variable: string, value: string | undefined): Array<{ text: string; where: string }> {
  return (value ?? "").split(",").map((text, i) => ({ text, where: `${variable} (entry ${i + 1})` }));
}

/** The entries of a file's text, one per line. */
export function fileEntries(file: string, text: string): Array<{ text: string; where: string }> {
  return text.split(/\r?\n/).map((line, i) => ({ text: line, where: `${file}:${i + 1}` }));
}

/** The credentials by digest (hex); of two entries with the same token, the first wins. */
export function credentialsByDigest(credentials: readonly Credential[]): Map<string, Credential> {
  const byDigest = new Map<string, Credential>();
  for (const credential of credentials) {
    const key = credential.digest.toString("hex");
    if (!byDigest.has(key)) byDigest.set(key, credential);
  }
  return byDigest;
}
