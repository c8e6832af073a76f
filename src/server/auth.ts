import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Engine } from '../store/index.ts';

/** What a token may do. Each role includes everything the roles before it may do. */
export const ROLES = ['viewer', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

/** True when `role` is at least `needed` (admin ⊇ analyst ⊇ viewer). */
export function allows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** Who is calling: the token's id and name (never the token itself) and its role. */
export interface Principal {
  token_id: string;
  name: string;
  role: Role;
}

export interface TokenInfo extends Principal {
  created_at: string;
  created_by: string;
  revoked: boolean;
}

/** Tokens look like `vgl_<43 base64url chars>`: 256 random bits, recognisable in a secret scanner. */
const PREFIX = 'vgl_';

function sha256(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * The token store. Tokens are checked against a hash map loaded from the engine and refreshed when
 * this process creates or revokes one, so a request costs a hash, not a query.
 */
export class TokenStore {
  private byHash = new Map<string, Principal>();
  private loaded = false;

  constructor(private readonly engine: Engine) {}

  private async current(): Promise<(TokenInfo & { token_sha256: string })[]> {
    const rows = await this.engine.query<{
      token_id: string;
      name: string;
      role: string;
      token_sha256: string;
      created_at: string;
      created_by: string;
      revoked: number;
    }>(
      `SELECT token_id, argMax(name, version) AS name, argMax(role, version) AS role,
         argMax(token_sha256, version) AS token_sha256, toString(min(created_at)) AS created_at,
         argMax(created_by, version) AS created_by, argMax(revoked, version) AS revoked
       FROM api_tokens GROUP BY token_id ORDER BY created_at, token_id`,
    );
    return rows
      .filter((r) => isRole(r.role))
      .map((r) => ({ ...r, role: r.role as Role, revoked: r.revoked === 1 }));
  }

  async reload(): Promise<void> {
    const map = new Map<string, Principal>();
    for (const t of await this.current()) {
      if (!t.revoked) map.set(t.token_sha256, { token_id: t.token_id, name: t.name, role: t.role });
    }
    this.byHash = map;
    this.loaded = true;
  }

  async list(): Promise<TokenInfo[]> {
    return (await this.current()).map(({ token_sha256: _, ...t }) => t);
  }

  /** True when no token that can still be used is an admin's: the first start must make one. */
  async needsAdmin(): Promise<boolean> {
    if (!this.loaded) await this.reload();
    return ![...this.byHash.values()].some((p) => p.role === 'admin');
  }

  /** Creates a token and returns it: the only time it exists outside the caller's hands. */
  async create(role: Role, name: string, createdBy: string): Promise<{ token: string } & Principal> {
    const token = PREFIX + randomBytes(32).toString('base64url');
    const token_id = `tok-${randomUUID().slice(0, 8)}`;
    await this.engine.insert('api_tokens', [
      {
        token_id,
        version: Date.now(),
        name,
        role,
        token_sha256: sha256(token),
        created_at: Math.floor(Date.now() / 1000),
        created_by: createdBy,
        revoked: 0,
      },
    ]);
    await this.reload();
    return { token, token_id, name, role };
  }

  async revoke(tokenId: string, by: string): Promise<boolean> {
    const t = (await this.current()).find((x) => x.token_id === tokenId);
    if (!t || t.revoked) return false;
    await this.engine.insert('api_tokens', [
      {
        token_id: t.token_id,
        version: Date.now(),
        name: t.name,
        role: t.role,
        token_sha256: t.token_sha256,
        created_at: Math.floor(Date.parse(`${t.created_at}Z`) / 1000) || 0,
        created_by: by,
        revoked: 1,
      },
    ]);
    await this.reload();
    return true;
  }

  /** The principal a presented token belongs to, or null. */
  async verify(token: string | undefined): Promise<Principal | null> {
    if (!token?.startsWith(PREFIX) || token.length > 100) return null;
    if (!this.loaded) await this.reload();
    // A lookup by SHA-256 leaks nothing useful through timing: an attacker cannot steer the hash.
    return this.byHash.get(sha256(token)) ?? null;
  }
}

/** The token in an `Authorization: Bearer …` header, or undefined. */
export function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}
