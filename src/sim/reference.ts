import type { ServiceAccount, SigningKey, World } from './world.ts';

/** The reference CSVs of spec/inputs.md §3. Ids never contain commas or quotes. */
function csv(header: string[], rows: string[][]): string {
  const cell = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

export function peopleCsv(world: World): string {
  return csv(
    ['person_id', 'principal_ids', 'department', 'role', 'country', 'hired_on', 'left_on'],
    world.people.map((p) => [
      p.id,
      p.principals.join(';'),
      p.department,
      p.role,
      p.country,
      p.hiredOn,
      p.leftOn,
    ]),
  );
}

export function keysCsv(world: World): string {
  return csv(
    ['key_id', 'purpose', 'created_on', 'retired_on', 'custodians'],
    world.keys.map((k: SigningKey) => [k.id, k.purpose, k.createdOn, k.retiredOn, k.custodians.join(';')]),
  );
}

export function servicesCsv(world: World): string {
  return csv(
    ['principal_id', 'owner_team', 'description'],
    world.services.map((s: ServiceAccount) => [s.principal, s.ownerTeam, s.description]),
  );
}
