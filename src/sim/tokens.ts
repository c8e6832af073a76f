import { HOUR } from './clock.ts';
import type { Token } from './ocsf.ts';
import type { Rng } from './rng.ts';
import type { EventStream } from './stream.ts';
import type { ScenarioTruth } from './truth.ts';

export const TOKEN_LIFETIME = HOUR;

export function newToken(rng: Rng, kid: string, iat: number, lifetime = TOKEN_LIFETIME): Token {
  return { uid: `jti-${rng.hex16()}`, kid, iat, exp: iat + lifetime };
}

export interface Holder {
  user: string;
  ip: string;
  /** JSON-quoted user agent. */
  ua: string;
  mfa: boolean;
  /** Signing key the login service uses for this holder at a given time. */
  kid: (t: number) => string;
}

/**
 * A principal's tokens over a stretch of activity: the login service issues one (an
 * Authentication Ticket event) and re-issues it shortly before it expires. Calls must come in
 * time order.
 */
export class TokenSession {
  private token: Token | null = null;
  readonly issued: Token[] = [];

  constructor(
    private readonly stream: EventStream,
    private readonly rng: Rng,
    readonly holder: Holder,
    private readonly truth?: ScenarioTruth,
  ) {}

  /** An interactive sign-in: a Logon, then the first token. */
  logon(t: number): Token {
    const h = this.holder;
    this.stream.auth(
      { t, user: h.user, activity: 1, token: null, ip: h.ip, ua: h.ua, mfa: h.mfa },
      this.truth,
    );
    return this.issue(t + this.rng.int(150, 900));
  }

  issue(t: number): Token {
    const h = this.holder;
    const token = newToken(this.rng, h.kid(t), t);
    this.stream.auth({ t, user: h.user, activity: 3, token, ip: h.ip, ua: h.ua, mfa: h.mfa }, this.truth);
    this.token = token;
    this.issued.push(token);
    return token;
  }

  /**
   * The token valid at `t`, refreshing it when less than a minute is left. Callers may ask out of
   * time order (a lookup's follow-up calls run ahead of the next action), so a token issued after
   * `t` is never handed out for `t`: an earlier one that covers `t` is, or a new one is issued.
   */
  at(t: number): Token {
    if (this.token && t >= this.token.iat && t <= this.token.exp - 60_000) return this.token;
    for (let i = this.issued.length - 1; i >= 0; i--) {
      const token = this.issued[i]!;
      if (t >= token.iat && t <= token.exp - 60_000) return token;
    }
    return this.issue(t - this.rng.int(50, 400));
  }
}
