// fd names must survive LISTEN_FDNAMES and FDNAME=: systemd's fdname_is_valid.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assertFdName } from "../../src/registry/pool.js";
import { exportFd, SdError } from "../../src/index.js";

test("valid fd names are accepted", () => {
  for (const name of ["web", "a", "x".repeat(255), "with space", "~!@#$%^&*()_+-=[]{};'\",./<>?|`"]) assertFdName(name);
});

test("names systemd would reject are refused with ERR_SD_INVALID_ARG", () => {
  for (const name of ["", "a:b", "x".repeat(256), "tab\there", "nl\n", "nul\0", "del\x7f", "é", "日本"]) {
    assert.throws(() => assertFdName(name), (e: unknown) => e instanceof SdError && e.code === "ERR_SD_INVALID_ARG", JSON.stringify(name));
  }
});

test("exportFd refuses an invalid name before duplicating anything", () => {
  assert.throws(() => exportFd("bad:name", 0), (e: unknown) => e instanceof SdError && e.code === "ERR_SD_INVALID_ARG");
});
