import { type ComponentChildren, h, render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { getToken, type Principal, setToken, whenUnauthorized } from './api.ts';
import { type Key, lang, setLang, t } from './i18n.ts';
import { AuditPage } from './pages/audit.ts';
import { HealthPage } from './pages/health.ts';
import { IncidentPage } from './pages/incident.ts';
import { IncidentsPage } from './pages/incidents.ts';
import { LoginPage } from './pages/login.ts';
import { PosturePage } from './pages/posture.ts';
import { TokensPage } from './pages/tokens.ts';
import { Loading } from './ui.ts';
import './style.css';

/** Routes live in the hash (#/incident/ID), so the server serves one page for all of them. */
function useHash(): [string, (h: string) => void] {
  const [hash, setHash] = useState(location.hash || '#/incidents');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/incidents');
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return [hash, (next: string) => (location.hash = next)];
}

const NAV: { hash: string; key: Key; role?: Principal['role'] }[] = [
  { hash: '#/incidents', key: 'nav.incidents' },
  { hash: '#/posture', key: 'nav.posture' },
  { hash: '#/health', key: 'nav.health' },
  { hash: '#/audit', key: 'nav.audit', role: 'analyst' },
  { hash: '#/tokens', key: 'nav.tokens', role: 'admin' },
];

const RANK = { viewer: 0, analyst: 1, admin: 2 } as const;

function App(): ComponentChildren {
  const [me, setMe] = useState<Principal | null>(null);
  const [checking, setChecking] = useState(Boolean(getToken()));
  const [, setLangTick] = useState(lang());
  const [hash, go] = useHash();
  const logout = useCallback(() => {
    setToken(null);
    setMe(null);
  }, []);
  useEffect(() => whenUnauthorized(logout), [logout]);
  useEffect(() => {
    document.documentElement.lang = lang();
    const token = getToken();
    if (!token) return;
    fetch('/api/me', { headers: { authorization: `Bearer ${token}` } })
      .then(async (r) => (r.ok ? setMe((await r.json()) as Principal) : logout()))
      .catch(logout)
      .finally(() => setChecking(false));
  }, [logout]);

  const toggleLang = () => {
    const next = lang() === 'en' ? 'ko' : 'en';
    setLang(next);
    setLangTick(next);
  };
  const langButton = h(
    'button',
    { class: 'btn link lang', onClick: toggleLang, 'data-testid': 'lang' },
    t('lang.toggle'),
  );

  if (checking) return h(Loading, null);
  if (!me)
    return h(
      'div',
      null,
      h('div', { class: 'corner' }, langButton),
      h(LoginPage, {
        onLogin: (token, principal) => {
          setToken(token);
          setMe(principal);
        },
      }),
    );

  const [, route, arg] = /^#\/([^/]*)\/?(.*)$/.exec(hash) ?? [];
  let page: ComponentChildren;
  switch (route) {
    case 'incident':
      page = h(IncidentPage, { id: decodeURIComponent(arg ?? ''), me, key: arg });
      break;
    case 'posture':
      page = h(PosturePage, null);
      break;
    case 'health':
      page = h(HealthPage, null);
      break;
    case 'audit':
      page = h(AuditPage, null);
      break;
    case 'tokens':
      page = h(TokensPage, null);
      break;
    default:
      page = h(IncidentsPage, { go });
  }
  const active = route === 'incident' ? '#/incidents' : `#/${route ?? 'incidents'}`;
  return h(
    'div',
    { class: 'shell' },
    h(
      'header',
      { class: 'top' },
      h('a', { class: 'brand', href: '#/incidents' }, h('span', { class: 'logo' }, '◆'), t('app.name')),
      h(
        'nav',
        null,
        NAV.filter((n) => !n.role || RANK[me.role] >= RANK[n.role]).map((n) =>
          h('a', { key: n.hash, href: n.hash, class: active === n.hash ? 'active' : '' }, t(n.key)),
        ),
      ),
      h(
        'div',
        { class: 'who' },
        langButton,
        h(
          'span',
          { class: 'badge role', 'data-testid': 'role' },
          `${me.name} · ${t(`role.${me.role}` as Key)}`,
        ),
        h('button', { class: 'btn link', onClick: logout }, t('nav.logout')),
      ),
    ),
    h('main', null, page),
  );
}

render(h(App, null), document.getElementById('app')!);
