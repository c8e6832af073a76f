import { accessLogSource } from './accesslog.ts';
import type { FieldMap } from './fieldmap.ts';

/**
 * Envoy JSON access logs (`json_format`). The defaults are the keys of Envoy's default format
 * string as most JSON configs (Istio's among them) spell them: `start_time`, `method`, `path`
 * (`%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%`), `response_code`, `bytes_sent`, `user_agent`,
 * `request_id`, `downstream_remote_address` (`address:port`; Envoy already applied
 * `xff_num_trusted_hops`, so `x_forwarded_for` is not trusted by default). The principal is
 * whatever the config logs from the JWT filter's metadata, e.g.
 * `"jwt_sub": "%DYNAMIC_METADATA(envoy.filters.http.jwt_authn:payload:sub)%"`.
 */
export const ENVOY_FIELDS: FieldMap = {
  fields: {
    time: ['start_time', 'timestamp'],
    client_ip: ['downstream_remote_address', 'client_ip'],
    forwarded_for: [],
    method: ['method'],
    path: ['path'],
    status: ['response_code'],
    principal: ['jwt_sub', 'principal'],
    principal_type: [],
    token_id: ['jwt_jti'],
    key_id: ['jwt_kid'],
    user_agent: ['user_agent'],
    bytes: ['bytes_sent'],
    request_id: ['request_id'],
    subjects: [],
  },
  subject_type: 'customer',
};

export const envoy = accessLogSource(
  'envoy',
  'Envoy JSON access logs (json_format), read through a field map',
  ENVOY_FIELDS,
);
