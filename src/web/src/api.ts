/** The console's only way to the server: `/api` with the bearer token the user signed in with. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'vigil.token';

/** The token lives in sessionStorage: it is gone when the browser tab closes. */
export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

let onUnauthorized: () => void = () => {};

export function whenUnauthorized(fn: () => void): void {
  onUnauthorized = fn;
}

async function request(path: string, init: RequestInit = {}, token = getToken()): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, {
      ...init,
      headers: { ...(init.headers ?? {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
  } catch {
    throw new ApiError(0, 'network');
  }
  if (!res.ok) {
    let message = res.statusText;
    try {
      message = ((await res.json()) as { error?: string }).error ?? message;
    } catch {
      // Not JSON: keep the status text.
    }
    if (res.status === 401 && token === getToken()) onUnauthorized();
    throw new ApiError(res.status, message);
  }
  return res;
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  return (await (await request(path, init)).json()) as T;
}

export interface Principal {
  token_id: string;
  name: string;
  role: 'viewer' | 'analyst' | 'admin';
}

/** Checks a token with the server; returns whose it is. */
export async function login(token: string): Promise<Principal> {
  const res = await request('/api/login', { method: 'POST' }, token);
  return (await res.json()) as Principal;
}

/** Fetches an export with the token and hands it to the browser as a download; returns its rows. */
export async function download(path: string, filename: string): Promise<number> {
  const res = await request(path);
  const blob = await res.blob();
  const text = await blob.text();
  const lines = text.split('\n').filter((l) => l.length > 0).length;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return filename.endsWith('.csv') ? Math.max(0, lines - 1) : lines;
}
