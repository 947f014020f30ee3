/**
 * "dev:ino" of an open fd, or undefined when it is not open. fd numbers are reused as soon as
 * one is closed; the identity tells a passed or owned fd from a number someone reused.
 * @module
 */
import { native } from "../native/binding.js";

/** The fd's "dev:ino", or undefined when it is not open. */
export function fdIdentity(fd: number): string | undefined {
  const st = native().fstat(fd);
  return typeof st === "number" ? undefined : `${st[1]}:${st[2]}`;
}
