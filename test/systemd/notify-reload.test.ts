// Type=notify-reload under a real systemd 254 user manager: SIGHUP -> reloading() (RELOADING=1
// with MONOTONIC_USEC in one message) -> ready(). The manager only accepts the reload when
// MONOTONIC_USEC is present and not older than its signal, so a passing reload proves both.
import { test } from "node:test";
import assert from "node:assert/strict";
import { skipUnless254, startUserManager } from "../harness/user-manager.js";
import { serviceLog, serviceUnit } from "../fixtures/notify-units.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";

const skip = await skipUnless254();

test("Type=notify-reload (254): systemctl reload completes after READY=1 and the unit stays active", { skip, timeout: 180_000 }, () => assertNoFdLeak(async () => {
  const m = await startUserManager({ version: 254 });
  try {
    await m.writeUnit("n-nreload.service", serviceUnit(m, "n-nreload", "reload", ["Type=notify-reload"]));
    assert.equal((await m.systemctl("start", "n-nreload.service")).code, 0);
    const before = await m.show("n-nreload.service", ["Type", "MainPID", "ReloadSignal"]);
    assert.equal(before.Type, "notify-reload");
    for (const n of [1, 2, 3]) {
      const r = await m.systemctl("reload", "n-nreload.service");
      assert.equal(r.code, 0, r.stderr + JSON.stringify(serviceLog(m, "n-nreload")));
      // notify-reload waits for READY=1: the new status is there when reload returns.
      const p = await m.show("n-nreload.service", ["ActiveState", "SubState", "StatusText", "MainPID", "Result"]);
      assert.deepEqual([p.ActiveState, p.SubState, p.StatusText, p.MainPID, p.Result], ["active", "running", `reloaded ${n}`, before.MainPID, "success"]);
    }
    assert.deepEqual(serviceLog(m, "n-nreload").map((l) => l.event), ["ready", "reloading", "reloaded", "reloading", "reloaded", "reloading", "reloaded"]);
    await m.systemctl("stop", "n-nreload.service");
  } finally { await m.stop(); }
}));
