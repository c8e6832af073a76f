import type { Dialect } from '../../store/index.ts';
import type { EventSource } from '../source.ts';
import { badIp, badTime, jsonRemainder, missing, stageSelect, timeMsFromText } from './stage.ts';

/**
 * AWS CloudTrail records. A line is either one record (`jq -c '.Records[]'`, or CloudTrail Lake /
 * EventBridge exports) or a whole delivered file `{"Records":[…]}` on one line, which the engine
 * expands so that each record is one row: here `read` counts records, not lines, and a quarantined
 * record's detail starts with its index (`Records[3]: …`). A pretty-printed file spanning many lines
 * must be compacted first (`jq -c '.Records[]' file.json`).
 *
 * Each record is an API Activity (6003) whose operation is `eventName` (e.g. `GetObject`); a
 * `ConsoleLogin` is an Authentication (3002) logon. The actor is `userIdentity.arn` (else
 * `principalId`, else the invoking service); `errorCode` means failure. An access key is not a
 * login-service token, so `token_id` stays empty (the key is in `unmapped`, under `userIdentity`)
 * and the unissued-token detector does not mistake keys for forged tokens. `resources[]` are AWS resources, not people, so they stay in `unmapped` with every other
 * key not mapped here (`userIdentity`, `eventSource`, `requestParameters`, `errorCode`…). A record
 * whose `sourceIPAddress` is a service name (`s3.amazonaws.com`, `AWS Internal`) has no client
 * address and is quarantined as `bad_ip`.
 */

const RECORD = `Tuple(
  eventTime Nullable(String), eventName Nullable(String), eventID Nullable(String),
  requestID Nullable(String), sourceIPAddress Nullable(String), userAgent Nullable(String),
  errorCode Nullable(String), readOnly Nullable(Bool),
  userIdentity Tuple(type Nullable(String), arn Nullable(String), principalId Nullable(String),
    invokedBy Nullable(String),
    sessionContext Tuple(attributes Tuple(creationDate Nullable(String), mfaAuthenticated Nullable(String)),
      sessionIssuer Tuple(arn Nullable(String)))),
  responseElements Tuple(ConsoleLogin Nullable(String)),
  additionalEventData Tuple(MFAUsed Nullable(String)))`.replace(/\s+/g, ' ');

/** Keys whose whole content lands in event columns; the rest of a record goes to `unmapped`. */
const MAPPED_KEYS = [
  'eventTime',
  'eventName',
  'eventID',
  'requestID',
  'sourceIPAddress',
  'userAgent',
  'readOnly',
];

/** Verb prefixes of AWS API names, for records without `readOnly`. */
const ACTIVITY = `multiIf(
  ifNull(j.readOnly, false), 2,
  match(op, '^(Get|List|Describe|Head|Lookup|Search|Select|Scan|Query|BatchGet|Download)'), 2,
  match(op, '^(Delete|Remove|Terminate|Revoke|Deregister|Purge)'), 4,
  match(op, '^(Update|Modify|Set|Change|Replace|Reset|Attach|Detach|Enable|Disable|Associate|Disassociate|Tag|Untag)'), 3,
  match(op, '^(Create|Put|Run|Start|Add|Upload|Copy|Import|Register|Issue|Send|Publish|Invoke|Assume)'), 1,
  99)`;

function cloudTrailSelect(d: Dialect, input: string): string {
  // A `{"Records":[…]}` line becomes one row per record, numbered from 1; any other line is itself
  // the record (number 0). An empty `Records` keeps its line so that it is counted and quarantined.
  const from = `(SELECT source_line, pair.1 AS record_no, pair.2 AS line, input_label FROM (
    SELECT _row_number + {firstLine:UInt64} AS source_line, input_label,
      if(startsWith(trimLeft(line), '{"Records"') OR JSONHas(line, 'Records'), JSONExtractArrayRaw(line, 'Records'), []) AS records,
      arrayJoin(if(empty(records), [(toUInt64(0), line)], arrayMap((r, i) -> (toUInt64(i), r), records, arrayEnumerate(records)))) AS pair
    FROM ${input}))`;
  return stageSelect(d, {
    from,
    lets: [
      [['j', `JSONExtract(text, '${RECORD}')`]],
      [
        ['op', `ifNull(j.eventName, '')`],
        ['is_login', `op = 'ConsoleLogin'`],
        [
          'ct_actor',
          `coalesce(nullIf(j.userIdentity.arn, ''), nullIf(j.userIdentity.principalId, ''), nullIf(j.userIdentity.invokedBy, ''))`,
        ],
        ['ct_context', 'j.userIdentity.sessionContext'],
      ],
    ],
    timeMs: timeMsFromText('j.eventTime'),
    ip: 'j.sourceIPAddress',
    checks: [
      {
        when: `NOT startsWith(trimLeft(text), '{') OR NOT isValidJSON(text)`,
        reason: 'invalid_json',
        detail: `''`,
      },
      {
        when: `record_no = 0 AND JSONHas(text, 'Records')`,
        reason: 'missing_field',
        detail: `'Records (empty or not a list)'`,
      },
      missing('eventTime', 'j.eventTime'),
      badTime('eventTime', 'j.eventTime'),
      missing('sourceIPAddress', 'j.sourceIPAddress'),
      badIp('sourceIPAddress'),
      missing('eventName', 'j.eventName'),
      missing('userIdentity.arn or userIdentity.principalId', 'ct_actor'),
    ],
    detailPrefix: `if(record_no > 0, concat('Records[', toString(record_no - 1), ']: '), '')`,
    columns: {
      event_id: `if(ifNull(j.eventID, '') != '', j.eventID, concat('h:', hex(sipHash128(line))))`,
      class_uid: 'if(is_login, 3002, 6003)',
      activity_id: `if(is_login, 1, ${ACTIVITY})`,
      status_id: `multiIf(is_login, if(j.responseElements.ConsoleLogin = 'Success', 1, 2),
        ifNull(j.errorCode, '') != '', 2, 1)`,
      actor_uid: 'ct_actor',
      actor_type: 'j.userIdentity.type',
      token_created_ms: `toUnixTimestamp64Milli(parseDateTime64BestEffortOrNull(ifNull(ct_context.attributes.creationDate, ''), 3, 'UTC'))`,
      issuer: 'ct_context.sessionIssuer.arn',
      user_agent: 'j.userAgent',
      operation: 'op',
      request_id: 'j.requestID',
      is_mfa: `multiIf(
        ct_context.attributes.mfaAuthenticated = 'true' OR j.additionalEventData.MFAUsed = 'Yes', 1,
        ct_context.attributes.mfaAuthenticated = 'false' OR j.additionalEventData.MFAUsed = 'No', 0, -1)`,
    },
    unmapped: jsonRemainder('JSONExtractKeysAndValuesRaw(text)', MAPPED_KEYS),
  });
}

export const cloudtrail: EventSource = {
  name: 'cloudtrail',
  linewise: true,
  description: 'AWS CloudTrail records, one per line or whole {"Records":[…]} files on one line',
  parseSelect: cloudTrailSelect,
};
