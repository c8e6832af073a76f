import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ingestInputs } from '../sources/index.ts';
import { openWorkspace, type Workspace } from '../store/index.ts';

/**
 * Test support: a real chDB workspace in a temporary directory, loaded with hand-written
 * reference data and OCSF events. Only one may be open per process (chDB holds one data directory).
 */

export const TEST_CATALOG = `categories:
  name: { label: Name }
  phone: { label: Phone number }
  email: { label: Email address }
  address: { label: Shipping address }
  door_code: { label: Shared-entrance door code }
  payment: { label: Payment details }
operations:
  GetProfile: [name, email, phone]
  GetShippingAddresses: [name, phone, address]
  GetDeliveryInstructions: [door_code]
  AdminSearch: [name, email]
paths:
  "GET /v1/customers/{id}/addresses": [name, phone, address]
`;

export const TEST_PEOPLE = `person_id,principal_ids,department,role,country,hired_on,left_on
p-eng,emp-eng;svc-eng-cli,auth,engineer,KR,2019-01-01,2025-01-01
p-ana,emp-ana,support,agent,KR,2020-01-01,
p-bob,emp-bob,support,agent,KR,2020-01-01,2025-06-24
p-ret,emp-ret,support,agent,KR,2018-01-01,2024-01-01
`;

export const TEST_KEYS = `key_id,purpose,created_on,retired_on,custodians
k-app,customer-access-token,2024-03-01,,p-eng;p-ana
k-old,customer-access-token,2023-01-01,2025-06-24,p-eng
k-new,customer-access-token,2025-06-20,,p-ana
k-emp,employee-access-token,2025-05-01,,p-ana
`;

export const TEST_SERVICES = `principal_id,owner_team,description
svc-batch,data,nightly export
svc-eng-cli,auth,deploy tool handed over to the auth team
`;

export interface FixtureFiles {
  /** OCSF JSON lines: a path, or the lines themselves. */
  events?: string | string[];
  people?: string;
  keys?: string;
  services?: string;
  catalog?: string;
  settings?: string;
}

export interface TestWorkspace extends Workspace {
  dir: string;
  /** Ingests more OCSF lines (as a later delivery would). */
  ingestLines(lines: string[]): Promise<void>;
  /** Closes and deletes the workspace. */
  dispose(): Promise<void>;
}

export async function fixtureWorkspace(files: FixtureFiles = {}): Promise<TestWorkspace> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-detect-'));
  const write = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  const ws = await openWorkspace(path.join(dir, 'home'), { command: 'test' });
  let n = 0;
  const ingestLines = async (lines: string[]) => {
    const p = write(`events-${n++}.jsonl`, `${lines.join('\n')}\n`);
    await ingestInputs(ws, [p]);
  };
  const events = files.events;
  const eventPaths = typeof events === 'string' ? [events] : [];
  await ingestInputs(ws, eventPaths, {
    reference: {
      people: write('people.csv', files.people ?? TEST_PEOPLE),
      keys: write('keys.csv', files.keys ?? TEST_KEYS),
      services: write('services.csv', files.services ?? TEST_SERVICES),
      catalog: write('catalog.yaml', files.catalog ?? TEST_CATALOG),
      ...(files.settings ? { settings: write('settings.yaml', files.settings) } : {}),
    },
  });
  if (Array.isArray(events)) await ingestLines(events);
  return {
    ...ws,
    dir,
    ingestLines,
    async dispose() {
      await ws.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Builders for OCSF lines, so tests read as the situation they stage. */
export interface ApiCall {
  time: string;
  actor: string;
  token?: string;
  kid?: string;
  iat?: string;
  exp?: string;
  ip?: string;
  ua?: string;
  op?: string;
  path?: string;
  subjects?: string[];
  status?: 1 | 2;
  id?: string;
}

const ms = (iso: string) => Date.parse(iso);

export function apiCall(c: ApiCall): string {
  const session = c.token
    ? {
        uid: c.token,
        ...(c.kid ? { credential_uid: c.kid } : {}),
        ...(c.iat ? { created_time: ms(c.iat) } : {}),
        ...(c.exp ? { expiration_time: ms(c.exp) } : {}),
      }
    : undefined;
  return JSON.stringify({
    time: ms(c.time),
    class_uid: 6003,
    activity_id: 2,
    status_id: c.status ?? 1,
    actor: { user: { uid: c.actor }, ...(session ? { session } : {}) },
    src_endpoint: { ip: c.ip ?? '198.51.100.10' },
    http_request: {
      http_method: 'GET',
      url: { path: c.path ?? `/v1/customers/${c.actor}/profile` },
      user_agent: c.ua ?? 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)',
    },
    ...(c.op !== '' ? { api: { operation: c.op ?? 'GetProfile' } } : {}),
    resources: (c.subjects ?? [c.actor]).map((uid) => ({ uid, type: 'customer' })),
    http_response: { code: c.status === 2 ? 401 : 200 },
    ...(c.id ? { metadata: { uid: c.id } } : {}),
  });
}

export interface AuthEvent {
  time: string;
  user: string;
  token?: string;
  kid?: string;
  iat?: string;
  exp?: string;
  activity?: 1 | 2 | 3;
  ip?: string;
  status?: 1 | 2;
  id?: string;
}

export function authEvent(a: AuthEvent): string {
  return JSON.stringify({
    time: ms(a.time),
    class_uid: 3002,
    activity_id: a.activity ?? 3,
    status_id: a.status ?? 1,
    user: { uid: a.user },
    ...(a.token
      ? {
          session: {
            uid: a.token,
            ...(a.kid ? { credential_uid: a.kid } : {}),
            ...(a.iat ? { created_time: ms(a.iat) } : {}),
            ...(a.exp ? { expiration_time: ms(a.exp) } : {}),
          },
        }
      : {}),
    src_endpoint: { ip: a.ip ?? '198.51.100.10' },
    ...(a.id ? { metadata: { uid: a.id } } : {}),
  });
}
