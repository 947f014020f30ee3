/**
 * The sd_notify wire format, as a pure builder and parser: one datagram of `KEY=VALUE`
 * assignments separated by newlines.
 *
 * The manager splits a message with `strv_split_newlines()` (systemd 252 and still today):
 * separators are `\n` *and* `\r`, and a backslash escapes the next character and is removed —
 * `STATUS=a\b` shows as `ab`, a backslash before a newline swallows the next assignment, and a
 * trailing backslash makes the manager drop the whole message (all verified against 252).
 * Messages with a NUL byte are dropped too. So the builder refuses, rather than alters, any value
 * containing `\n`, `\r`, NUL or `\`, or ill-formed Unicode; keys must match
 * `[A-Z_][A-Z0-9_]*`; and the message must fit the manager's 4096-byte buffer. Whatever it
 * accepts, every receiver reads as exactly the assignments given, whether it splits on `\n`
 * only or unescapes like the manager.
 * @module
 */
import { SdError } from "../errors.js";

/** The manager reads at most this many bytes per message (`NOTIFY_BUFFER_MAX` = `PIPE_BUF`); longer ones are dropped. */
export const NOTIFY_BUFFER_MAX = 4096;

/** The kernel passes at most this many fds per `sendmsg` (`SCM_MAX_FD`). */
export const SCM_MAX_FD = 253;

/** Longest `FDNAME=` the manager accepts (`FDNAME_MAX`). */
export const FDNAME_MAX = 255;

/** A value in a notify assignment; numbers must be integers. */
export type NotifyValue = string | number | bigint;

/**
 * What {@link buildNotifyMessage} accepts: a ready-made message (`"READY=1\nSTATUS=up"`, each
 * line validated), an object of assignments (`{ READY: 1, STATUS: "up" }`, in insertion order), or
 * an array of `[key, value]` pairs (when a key must repeat).
 */
export type NotifyState = string | Readonly<Record<string, NotifyValue>> | readonly (readonly [string, NotifyValue])[];

const KEY = /^[A-Z_][A-Z0-9_]*$/;
/** Characters the manager does not read literally: separators ("\n\r"), its escape character, NUL. */
const FORBIDDEN_IN_VALUE = /[\n\r\0\\]/;
/** A UTF-16 surrogate without its pair: Buffer.from would turn it into U+FFFD, silently changing the value. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function invalid(message: string): SdError {
  return new SdError("ERR_SD_INVALID_MESSAGE", message);
}

/** Throws `ERR_SD_INVALID_MESSAGE` unless `key` matches `[A-Z_][A-Z0-9_]*`. */
export function assertNotifyKey(key: string): void {
  if (typeof key !== "string" || !KEY.test(key)) {
    throw invalid(`notify key ${JSON.stringify(key)} is invalid: keys are upper-case letters, digits and '_', not starting with a digit (e.g. READY, STATUS, X_MY_APP).`);
  }
}

/** Converts and validates one value; throws `ERR_SD_INVALID_MESSAGE` when it cannot be sent as written. */
export function formatNotifyValue(key: string, value: NotifyValue): string {
  let text: string;
  if (typeof value === "string") text = value;
  else if (typeof value === "bigint") text = value.toString();
  else if (typeof value === "number" && Number.isSafeInteger(value)) text = String(value);
  else throw invalid(`notify value of ${key} must be a string, a bigint or a safe integer, got ${typeof value === "number" ? String(value) : typeof value}.`);
  const bad = FORBIDDEN_IN_VALUE.exec(text);
  if (bad) {
    const what = bad[0] === "\\"
      ? "a backslash, which systemd's notify parser treats as an escape character (it removes it, and can swallow the next assignment or drop the whole message)"
      : "a newline, carriage return or NUL, which the manager would read as the start of another assignment (or drop the message)";
    throw invalid(`notify value of ${key} contains ${what}. Send one line of text without '\\' per value.`);
  }
  if (LONE_SURROGATE.test(text)) throw invalid(`notify value of ${key} is not well-formed Unicode (a lone surrogate) and cannot be sent as UTF-8 unchanged.`);
  return text;
}

/** Splits a ready-made message into validated assignments. A single trailing newline is allowed. */
function parseStateString(state: string): [string, string][] {
  const body = state.endsWith("\n") ? state.slice(0, -1) : state;
  if (body === "") return [];
  return body.split("\n").map((line) => {
    const eq = line.indexOf("=");
    if (eq < 0) throw invalid(`notify line ${JSON.stringify(line)} is not a KEY=VALUE assignment.`);
    const key = line.slice(0, eq);
    assertNotifyKey(key);
    return [key, formatNotifyValue(key, line.slice(eq + 1))];
  });
}

/** Normalises any {@link NotifyState} into validated `[key, value]` pairs, in order. */
export function toAssignments(state: NotifyState): [string, string][] {
  if (typeof state === "string") return parseStateString(state);
  if (state === null || typeof state !== "object") throw invalid(`notify state must be a string, an object or an array of [key, value] pairs, got ${state === null ? "null" : typeof state}.`);
  const pairs: (readonly [string, NotifyValue])[] = Array.isArray(state) ? state : Object.entries(state);
  return pairs.map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw invalid("notify state arrays hold [key, value] pairs.");
    const [key, value] = pair as readonly [string, NotifyValue];
    assertNotifyKey(key);
    return [key, formatNotifyValue(key, value)];
  });
}

/**
 * A whole message of plain ASCII assignments, tested in one pass: what almost every caller sends
 * (`READY=1`, `STATUS=…`, `WATCHDOG=1`). Values exclude exactly what {@link formatNotifyValue}
 * refuses, so a string that matches is a message the general path would accept unchanged. Keys
 * that make `notify()` do more than send (`BARRIER` is refused, `STOPPING` and `WATCHDOG_USEC`
 * steer the pinger) are left to the general path, so no second scan is needed.
 */
const PLAIN_LINE = String.raw`(?!BARRIER=|STOPPING=|WATCHDOG_USEC=)[A-Z_][A-Z0-9_]*=[^\n\r\0\\\x80-\uffff]*`;
const PLAIN_MESSAGE = new RegExp(`^${PLAIN_LINE}(?:\n${PLAIN_LINE})*\n?$`);

/**
 * The datagram text for `state` when it is a plain message (above) within
 * {@link NOTIFY_BUFFER_MAX}: the bytes {@link buildNotifyMessage} would produce. Otherwise
 * `null`, and the general path validates and explains. This spares a notification its arrays,
 * Buffer and second scans: it usually follows a quiet spell, when every extra step runs with
 * cold caches (measured: half the cost of a notification on this path).
 */
export function plainMessage(state: string): string | null {
  if (state.length > NOTIFY_BUFFER_MAX + 1 || !PLAIN_MESSAGE.test(state)) return null;
  const text = state.endsWith("\n") ? state.slice(0, -1) : state;
  return text.length <= NOTIFY_BUFFER_MAX ? text : null;
}

/** Joins validated assignments into the datagram; throws when it exceeds {@link NOTIFY_BUFFER_MAX}. */
export function encodeAssignments(assignments: readonly (readonly [string, string])[]): Buffer {
  const data = Buffer.from(assignments.map(([k, v]) => `${k}=${v}`).join("\n"), "utf8");
  if (data.length > NOTIFY_BUFFER_MAX) {
    throw invalid(`notify message is ${data.length} bytes; the service manager drops messages over ${NOTIFY_BUFFER_MAX} bytes. Shorten STATUS or split the assignments into several notify() calls.`);
  }
  return data;
}

/**
 * Builds the exact datagram for `state`, or throws `ERR_SD_INVALID_MESSAGE`. The result parses
 * (by the manager and by {@link parseNotifyMessage}) into exactly the assignments given, in order.
 */
export function buildNotifyMessage(state: NotifyState): Buffer {
  const assignments = toAssignments(state);
  if (assignments.length === 0) throw invalid("notify message is empty: give at least one KEY=VALUE assignment.");
  return encodeAssignments(assignments);
}

/**
 * Throws `ERR_SD_INVALID_ARG` unless `name` can be an `FDNAME=`: 1 to 255 printable ASCII
 * characters without ':' (the manager ignores other names and stores the fd as "stored").
 */
export function assertFdStoreName(name: string): void {
  if (typeof name !== "string" || name.length === 0 || name.length > FDNAME_MAX || !/^[\x20-\x7e]*$/.test(name) || name.includes(":")) {
    throw new SdError("ERR_SD_INVALID_ARG", `fd store name ${JSON.stringify(name)} is invalid: FDNAME must be 1-${FDNAME_MAX} printable ASCII characters without ':' (systemd's fdname_is_valid).`);
  }
}

/** A notify datagram as a receiver reads it. */
export interface ParsedNotifyMessage {
  /** Every `KEY=VALUE` line, in order (keys may repeat). */
  assignments: [string, string][];
  /** First value per key, which is the one the manager acts on. */
  fields: Record<string, string>;
  /** Non-empty lines without '=' (the manager ignores them). */
  invalid: string[];
  /** The message ends in an unpaired backslash: the manager ignores it entirely (no assignments). */
  malformed: boolean;
}

/**
 * Splits like systemd's `strv_split_newlines()`: words separated by runs of `\n`/`\r`, a
 * backslash taking the next character literally; `null` for a trailing backslash.
 */
function splitLikeManager(text: string): string[] | null {
  const words: string[] = [];
  let word = "", inWord = false, escaped = false;
  for (const ch of text) {
    if (escaped) { word += ch; escaped = false; }
    else if (ch === "\\") { escaped = true; inWord = true; }
    else if (ch === "\n" || ch === "\r") { if (inWord) words.push(word); word = ""; inWord = false; }
    else { word += ch; inWord = true; }
  }
  if (escaped) return null;
  if (inWord) words.push(word);
  return words;
}

/**
 * Parses a datagram exactly as the service manager does (see the module doc): lines split on
 * `\n` and `\r`, backslash escapes resolved, the first occurrence of a key wins in `fields`.
 */
export function parseNotifyMessage(data: Buffer | string): ParsedNotifyMessage {
  const text = typeof data === "string" ? data : data.toString("utf8");
  const out: ParsedNotifyMessage = { assignments: [], fields: Object.create(null) as Record<string, string>, invalid: [], malformed: false };
  const lines = splitLikeManager(text);
  if (lines === null) { out.malformed = true; return out; }
  for (const line of lines) {
    const eq = line.indexOf("=");
    if (eq < 0) { out.invalid.push(line); continue; }
    const key = line.slice(0, eq), value = line.slice(eq + 1);
    out.assignments.push([key, value]);
    if (!(key in out.fields)) out.fields[key] = value;
  }
  return out;
}
