import { OPERATIONS, type Operation } from '../catalog.ts';
import { HOUR } from '../clock.ts';
import type { DayContext } from '../context.ts';
import type { Token } from '../ocsf.ts';
import { fillPath } from '../paths.ts';
import { cumulative, Rng } from '../rng.ts';
import { TokenSession } from '../tokens.ts';
import type { Customer, Device, Subject } from '../world.ts';

/** Sessions per customer per average day, before the customer's own activity level. */
const SESSIONS_PER_DAY = 0.42;

type Journey = 'browse' | 'orders' | 'checkout' | 'account' | 'addresses';
const JOURNEYS: Journey[] = ['browse', 'orders', 'checkout', 'account', 'addresses'];
const NORMAL_MIX = cumulative([0.52, 0.2, 0.14, 0.09, 0.05]);
const SALE_MIX = cumulative([0.45, 0.15, 0.3, 0.05, 0.05]);

const {
  SearchProducts,
  GetProduct,
  AddToCart,
  GetCart,
  GetRecentOrders,
  GetOrder,
  GetShippingAddresses,
  GetDeliveryInstructions,
  GetPaymentMethods,
  PlaceOrder,
  GetProfile,
  UpdateProfile,
  ChangePassword,
} = OPERATIONS;

/** Shoppers: sign in (or refresh), then a few page loads with that token. */
export function generateCustomers(ctx: DayContext): void {
  const rng = Rng.derive(ctx.seed, 'customers', ctx.day);
  const { customers } = ctx.world;
  const mean = SESSIONS_PER_DAY * ctx.shopperMass;
  for (let i = 0; i < customers.length; i++) {
    const n = rng.poisson(mean * customers.activity(i));
    if (n === 0) continue;
    const c = customers.at(i);
    for (let s = 0; s < n; s++) {
      const hour = rng.weighted(ctx.shopperHoursCum);
      session(ctx, rng, c, ctx.startMs + hour * HOUR + rng.int(0, HOUR - 1));
    }
  }
}

function originOf(ctx: DayContext, rng: Rng, c: Customer, device: Device, t: number): string {
  if (c.trip && t >= c.trip.fromMs && t < c.trip.toMs) return c.trip.ip;
  if (device.carrier && rng.chance(0.75)) return rng.pick(ctx.world.natPools[device.carrier]);
  return c.homeIp;
}

function session(ctx: DayContext, rng: Rng, c: Customer, start: number): void {
  const device = c.devices[rng.chance(0.7) ? 0 : rng.int(0, c.devices.length - 1)];
  const { cast, timeline } = ctx.world;
  const app = device.kind === 'ios-app' || device.kind === 'android-app';
  const tokens = new TokenSession(ctx.stream, rng, {
    user: c.subject.id,
    ip: originOf(ctx, rng, c, device, start),
    ua: device.ua,
    mfa: false,
    // App tokens are signed with the long-lived app key; web tokens with the web key, which
    // is rotated partway through the period.
    kid: (t) => (app ? cast.appKey.id : t >= timeline.rotationMs ? cast.webKeyNew.id : cast.webKeyOld.id),
  });
  let t = start;
  if (rng.chance(0.3)) {
    if (rng.chance(0.08)) {
      // A mistyped password first.
      const h = tokens.holder;
      ctx.stream.auth({
        t,
        user: h.user,
        activity: 1,
        failed: true,
        token: null,
        ip: h.ip,
        ua: h.ua,
        mfa: false,
      });
      t += rng.int(5_000, 40_000);
    }
    tokens.logon(t);
  } else {
    tokens.issue(t);
  }
  t += rng.int(300, 4_000);
  const journeys = rng.chance(0.3) ? 2 : 1;
  const mix = ctx.isSaleDay(start) ? SALE_MIX : NORMAL_MIX;
  for (let j = 0; j < journeys; j++) {
    t = journey(ctx, rng, c, tokens, JOURNEYS[rng.weighted(mix)], t);
  }
  if (rng.chance(0.04)) {
    const h = tokens.holder;
    ctx.stream.auth({ t, user: h.user, activity: 2, token: null, ip: h.ip, ua: h.ua, mfa: false });
  }
}

function journey(
  ctx: DayContext,
  rng: Rng,
  c: Customer,
  tokens: TokenSession,
  kind: Journey,
  t0: number,
): number {
  let t = t0;
  const id = c.subject.id;
  const self = [c.subject];
  const call = (op: Operation, subjects: readonly Subject[], ref = ''): void => {
    const token = tokens.at(t);
    emit(ctx, rng, c, tokens, token, op, fillPath(op, id, ref), subjects, t);
    t += rng.int(2_000, 75_000);
  };
  switch (kind) {
    case 'browse': {
      call(SearchProducts, []);
      const views = rng.int(1, 5);
      for (let v = 0; v < views; v++) call(GetProduct, [], `p-${rng.int(1, 400_000)}`);
      if (rng.chance(0.35)) call(AddToCart, []);
      break;
    }
    case 'orders': {
      call(GetRecentOrders, self);
      if (rng.chance(0.6)) call(GetOrder, self, orderRef(rng));
      break;
    }
    case 'checkout': {
      call(GetCart, []);
      call(GetShippingAddresses, c.book);
      const k = c.recipients.length > 0 && rng.chance(0.25) ? rng.index(c.recipients.length) : -1;
      const shipTo = k < 0 ? c.subject : c.recipients[k];
      if (c.doorCodes.includes(shipTo) && rng.chance(0.5))
        call(GetDeliveryInstructions, [shipTo], addrRef(rng));
      call(GetPaymentMethods, self);
      if (rng.chance(0.8)) {
        const order = orderNumber(rng);
        const placedAt = t;
        call(PlaceOrder, self);
        ctx.orders.add(placedAt, order, c.index, k < 0 ? -1 : c.firstRecipient + k);
      }
      break;
    }
    case 'account': {
      call(GetProfile, self);
      if (rng.chance(0.12)) call(UpdateProfile, self);
      else if (rng.chance(0.04)) call(ChangePassword, []);
      break;
    }
    case 'addresses': {
      call(GetShippingAddresses, c.book);
      if (c.doorCodes.length > 0 && rng.chance(0.4))
        call(GetDeliveryInstructions, [rng.pick(c.doorCodes)], addrRef(rng));
      break;
    }
  }
  return t;
}

function emit(
  ctx: DayContext,
  rng: Rng,
  c: Customer,
  tokens: TokenSession,
  token: Token,
  op: Operation,
  path: string,
  subjects: readonly Subject[],
  t: number,
): void {
  const r = rng.next();
  // A little of everything real gateways log: server errors, expired-token rejections.
  const failed = r < 0.012;
  const code = failed ? (r < 0.004 ? 401 : r < 0.008 ? 503 : 500) : 200;
  const h = tokens.holder;
  ctx.stream.api({
    t,
    actor: c.subject.id,
    actorType: 'Customer',
    token,
    ip: h.ip,
    ua: h.ua,
    op,
    path,
    subjects,
    failed,
    code,
  });
}

export function orderRef(rng: Rng): string {
  return orderId(orderNumber(rng));
}

export function orderNumber(rng: Rng): number {
  return rng.int(10_000_000, 99_999_999);
}

export function orderId(number: number): string {
  return `o-${number}`;
}

export function addrRef(rng: Rng): string {
  return `a-${rng.int(100_000, 999_999)}`;
}
