import { type ComponentChildren, h } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, login, type Principal } from '../api.ts';
import { t } from '../i18n.ts';
import { errorText } from '../ui.ts';

export function LoginPage(props: { onLogin: (token: string, me: Principal) => void }): ComponentChildren {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      props.onLogin(token.trim(), await login(token.trim()));
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401 ? t('login.invalid') : errorText(err as ApiError),
      );
    } finally {
      setBusy(false);
    }
  };
  return h(
    'div',
    { class: 'login' },
    h(
      'form',
      { class: 'card login-card', onSubmit: submit },
      h('h1', null, t('app.name')),
      h('p', { class: 'muted' }, t('app.tagline')),
      h('label', { for: 'token' }, t('login.token')),
      h('input', {
        id: 'token',
        name: 'token',
        type: 'password',
        autocomplete: 'off',
        required: true,
        placeholder: t('login.placeholder'),
        value: token,
        onInput: (e: Event) => setToken((e.target as HTMLInputElement).value),
      }),
      h('button', { class: 'btn', type: 'submit', disabled: busy }, t('login.submit')),
      error ? h('p', { class: 'state error', role: 'alert' }, error) : null,
      h('p', { class: 'muted small' }, t('login.help')),
    ),
  );
}
