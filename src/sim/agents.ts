import type { Rng } from './rng.ts';

/** User agents, built from parts so a population has realistic version spread. */
const IPHONES = ['iPhone14,5', 'iPhone15,2', 'iPhone15,3', 'iPhone16,1', 'iPhone16,2', 'iPhone17,1'];
const GALAXIES = ['SM-S918N', 'SM-S921N', 'SM-A546N', 'SM-F731N', 'SM-G991N', 'SM-S928N', 'SM-A356N'];
const APP_VERSIONS = ['7.2.0', '7.3.1', '7.4.0', '7.4.2', '7.5.0'];

export type DeviceKind = 'ios-app' | 'android-app' | 'mobile-web' | 'desktop';

export function customerAgent(rng: Rng, kind: DeviceKind): string {
  switch (kind) {
    case 'ios-app':
      return `ShopApp/${rng.pick(APP_VERSIONS)} (${rng.pick(IPHONES)}; iOS ${rng.pick(['17.5.1', '17.6', '18.0', '18.1', '18.3.2', '18.5'])}; Scale/3.00)`;
    case 'android-app':
      return `ShopApp/${rng.pick(APP_VERSIONS)} (Linux; Android ${rng.int(12, 15)}; ${rng.pick(GALAXIES)})`;
    case 'mobile-web':
      return `Mozilla/5.0 (Linux; Android ${rng.int(12, 15)}; ${rng.pick(GALAXIES)}) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/${rng.int(23, 27)}.0 Chrome/${rng.int(117, 126)}.0.0.0 Mobile Safari/537.36`;
    case 'desktop':
      return desktopAgent(rng);
  }
}

export function desktopAgent(rng: Rng): string {
  const chrome = `${rng.int(120, 127)}.0.0.0`;
  switch (rng.int(0, 3)) {
    case 0:
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chrome} Safari/537.36`;
    case 1:
      return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${rng.int(16, 18)}.${rng.int(0, 5)} Safari/605.1.15`;
    case 2:
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chrome} Safari/537.36 Edg/${chrome}`;
    default:
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:${rng.int(125, 128)}.0) Gecko/20100101 Firefox/${rng.int(125, 128)}.0`;
  }
}

/** Tools crawlers use; the overseas forgery is not shy about them. */
export const CRAWLER_AGENTS = [
  'python-requests/2.31.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.60 Safari/537.36',
  'Scrapy/2.11.2 (+https://scrapy.org)',
];
