// Fetch and verify a service's team: root key, current statement, member statements.
// Through the lazy binding: the youth's page loads crypto after its first paint (e2e/lazy.js).
import { e2e } from "./e2e/lazy.js";

/**
 * @param {string} service
 * @returns {Promise<{root: Uint8Array, statement: any, members: any[], json: any}>}
 */
export async function fetchTeam(service) {
  const r = await fetch(`/api/team/${encodeURIComponent(service)}`, { credentials: "same-origin" });
  if (!r.ok) throw new Error("team " + r.status);
  return verifyTeam(await r.json());
}

export function verifyTeam(json) {
  const root = e2e.b64decode(json.root);
  const statement = e2e.verifyTeamStatement(e2e.b64decode(json.statement), root, json.service);
  const members = json.members.map((m) => e2e.verifyMemberStatement(e2e.b64decode(m), root, json.service));
  return { root, statement, members, json };
}

export function memberSignKeys(team) {
  return team.members.map((m) => m.signPublicKey);
}
