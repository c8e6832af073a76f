import { accessLogSource } from './accesslog.ts';
import type { FieldMap } from './fieldmap.ts';

/**
 * nginx JSON access logs: a `log_format … escape=json` that writes one object per request. The
 * defaults follow the variable names people usually keep as keys, e.g.
 *
 * ```nginx
 * log_format vigil escape=json '{"time_iso8601":"$time_iso8601","remote_addr":"$remote_addr",'
 *   '"request_method":"$request_method","request_uri":"$request_uri","status":$status,'
 *   '"body_bytes_sent":$body_bytes_sent,"http_user_agent":"$http_user_agent",'
 *   '"request_id":"$request_id","jwt_sub":"$jwt_claim_sub","jwt_jti":"$jwt_claim_jti",'
 *   '"jwt_kid":"$jwt_header_kid"}';
 * ```
 *
 * `X-Forwarded-For` is not trusted by default: nginx's `realip` module (or `forwarded_for` in a
 * field map) decides who the client is.
 */
export const NGINX_FIELDS: FieldMap = {
  fields: {
    time: ['time_iso8601', 'time', 'timestamp', '@timestamp', 'msec', 'time_local'],
    client_ip: ['remote_addr', 'realip_remote_addr', 'client_ip'],
    forwarded_for: [],
    method: ['request_method', 'method'],
    path: ['uri', 'request_uri', 'path'],
    status: ['status'],
    principal: ['jwt_sub', 'jwt_claim_sub', 'remote_user'],
    principal_type: [],
    token_id: ['jwt_jti', 'jwt_claim_jti'],
    key_id: ['jwt_kid', 'jwt_header_kid'],
    user_agent: ['http_user_agent', 'user_agent'],
    bytes: ['body_bytes_sent', 'bytes_sent'],
    request_id: ['request_id', 'http_x_request_id'],
    subjects: [],
  },
  subject_type: 'customer',
};

export const nginx = accessLogSource(
  'nginx',
  'nginx JSON access logs (log_format escape=json), read through a field map',
  NGINX_FIELDS,
);
