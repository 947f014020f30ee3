/**
 * "dev:ino" of an open fd, or undefined when it is not open. fd numbers are reused as soon as
 * one is closed; the identity tells a passed or owned fd from a number someone reused.
 * @module
 */
import { native } from "../native/binding.js";

/** The fd's "dev:ino", or undefined when it is not open. */
export function fdIdentity(fd: number): string | undefined {
  const st = native().fstat(fd);
  return typeof st === "number" ? undefined : statIdentity(st);
}

/** The "dev:ino" of an fstat result already at hand (each syscall costs ~1.5 µs on a VM). */
export function statIdentity(st: ArrayLike<number>): string {
  return identityOf(st[1]!, st[2]!);
}

/** The one spelling of an identity, for a device and inode read elsewhere (e.g. an FdInfo). */
export function identityOf(dev: number | undefined, ino: number | undefined): string {
  return `${dev}:${ino}`;
}
