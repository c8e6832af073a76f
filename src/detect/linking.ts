import type { SiteSettings } from '../sources/reference/index.ts';
import type { Engine } from '../store/index.ts';
import type { EntityRef } from './detector.ts';
import { jsonList, sqlJsonList, sqlTime } from './sql.ts';

/**
 * Which shared entities glue findings into one incident.
 *
 * Findings are grouped when they share an entity that identifies one party: a signing key, a
 * token, an account (actor, service), a person, or an address that is not shared infrastructure.
 * Entities that many unrelated parties share never glue, even though they are listed on the
 * incident: user agents (a common browser string), ASNs and subnets, and addresses on carrier NAT
 * (net_class `mobile`), in private/internal ranges, or in the site's carrier-NAT, proxy or internal
 * ranges. Otherwise one carrier address or one Chrome version would join every incident into one.
 */

const ALWAYS: ReadonlySet<string> = new Set(['key', 'token', 'actor', 'person', 'service']);

export interface LinkOptions {
  /** Network classes whose addresses are shared by many unrelated people. */
  sharedNetClasses: readonly string[];
}

export class LinkRule {
  private readonly shared = new Map<string, boolean>();

  constructor(
    private readonly engine: Engine,
    private readonly settings: SiteSettings,
    private readonly opts: LinkOptions,
  ) {}

  /** Looks up, once per address, whether the addresses among `refs` are shared infrastructure. */
  async prepare(refs: readonly EntityRef[], from: Date, to: Date): Promise<void> {
    const ips = [...new Set(refs.filter((r) => r.type === 'ip' && !this.shared.has(r.id)).map((r) => r.id))];
    if (ips.length === 0) return;
    const ranges = [
      ...this.settings.carrier_nat,
      ...this.settings.trusted_proxies,
      ...this.settings.internal,
    ];
    const d = this.engine.dialect;
    const rows = await this.engine.query<{ ip: string; in_range: number; net_class: string }>(
      `SELECT l.ip AS ip, arrayExists(r -> isIPAddressInRange(l.ip, r), ${sqlJsonList('ranges')}) AS in_range,
         c.net_class AS net_class
       FROM (SELECT arrayJoin(${sqlJsonList('ips')}) AS ip) AS l
       LEFT JOIN (
         SELECT ${d.sqlIpToString('src_ip')} AS ip, toString(anyHeavy(net_class)) AS net_class FROM events
         WHERE src_ip IN (SELECT toIPv6(arrayJoin(${sqlJsonList('ips')})))
           AND time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')}
         GROUP BY ip
       ) AS c ON l.ip = c.ip`,
      { ips: jsonList(ips), ranges: jsonList(ranges), from: sqlTime(from), to: sqlTime(to) },
    );
    for (const r of rows)
      this.shared.set(r.ip, Boolean(Number(r.in_range)) || this.opts.sharedNetClasses.includes(r.net_class));
    for (const ip of ips) if (!this.shared.has(ip)) this.shared.set(ip, false);
  }

  /** True when `ref` may glue two findings together (call `prepare` first for addresses). */
  links(ref: EntityRef): boolean {
    if (ref.id === '') return false;
    if (ALWAYS.has(ref.type)) return true;
    if (ref.type === 'ip') return this.shared.get(ref.id) === false;
    return false;
  }
}
