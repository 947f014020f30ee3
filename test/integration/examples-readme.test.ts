/**
 * The examples' READMEs, verbatim: the `sdkit run` command of each README's "Under `sdkit run`"
 * section is run as written (by /bin/sh, from the checkout root), and the README's own client
 * commands (curl, python3) are run against it where the README gives them. Each runs in a
 * private network namespace, so the READMEs' fixed ports never collide with anything; the
 * clients join that namespace with nsenter. Ctrl-C (SIGINT to the process group) stops it.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/spawn.js";
import { EXAMPLES, requireBuild, until } from "../fixtures/examples-kit.js";

before(requireBuild);

/** The fenced `sh` blocks of a Markdown text, each as its lines, under the heading they follow. */
function shBlocks(md: string): { heading: string; text: string }[] {
  const out: { heading: string; text: string }[] = [];
  let heading = "";
  const re = /^(#{1,6} .*)$|^```sh\n([\s\S]*?)^```$/gm;
  for (let m; (m = re.exec(md));) {
    if (m[1] !== undefined) heading = m[1];
    else out.push({ heading, text: m[2]! });
  }
  return out;
}

/** A command line without its trailing "   # comment". */
const uncomment = (line: string) => line.replace(/\s{2,}#.*$/, "").trim();

/** Runs `sh -c script` in the network namespace of `pid`, from the checkout root. */
function inNamespace(pid: number, script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("nsenter", ["-t", String(pid), "-n", "--", "/bin/sh", "-c", script], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${script}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** A Node HTTP GET inside the namespace (for READMEs whose client needs a pid first). */
const nodeGet = (port: number) => `${process.execPath} -e 'require("http").get("http://127.0.0.1:${port}/", (r) => r.pipe(process.stdout))'`;

interface Case {
  example: string;
  /** Client commands: the README's own (readmeLines, or a whole block), or a script of the test's. */
  clients: (readme: { heading: string; text: string }[]) => string[];
  /** What each client prints. */
  expect: RegExp[];
}

/** The README's command lines matching `pick`, from its "Under `sdkit run`" section. */
const readmeLines = (pick: RegExp) => (blocks: { heading: string; text: string }[]) =>
  blocks.filter((b) => b.heading.startsWith("## Under `sdkit run`")).flatMap((b) => b.text.split("\n")).map(uncomment).filter((l) => pick.test(l));

const CASES: Case[] = [
  { example: "http-hello", clients: readmeLines(/^curl http:\/\/127\.0\.0\.1:8080\/$/), expect: [/^hello from pid \d+\n$/] },
  { example: "express", clients: readmeLines(/^curl http:\/\/127\.0\.0\.1:8081\//), expect: [/^\{"hello":"express","pid":\d+\}$/, /^\{"ok":true,"served":2\}$/] },
  { example: "udp-echo", clients: readmeLines(/^python3 -c .*9053/), expect: [/^b'echo: hi'\n$/] },
  {
    example: "unixgram",
    clients: (blocks) => [blocks.find((b) => b.text.startsWith("python3 - <<'PY'"))!.text],
    expect: [/^b'pong \(you are pid \d+\)'\n$/],
  },
  {
    example: "fdstore-restart",
    clients: () => [`${process.execPath} -e 'require("net").connect(8082, "127.0.0.1").on("data", (d) => { process.stdout.write(d); process.exit(0); })'`],
    expect: [/^hello from pid \d+\n$/],
  },
  { example: "sighup-replace", clients: () => [nodeGet(8083)], expect: [/^pid \d+, started \S+\n$/] },
  { example: "workers", clients: () => [nodeGet(8084), nodeGet(8084)], expect: [/^worker [12], pid \d+\n$/, /^worker [12], pid \d+\n$/] },
];

for (const c of CASES) {
  test(`examples/${c.example}/README.md: its sdkit run command serves, and its client gets the documented answer`, async (t) => {
    const blocks = shBlocks(readFileSync(join(EXAMPLES, c.example, "README.md"), "utf8"));
    const runBlock = blocks.find((b) => /^## Under `sdkit run`/.test(b.heading));
    assert.ok(runBlock, "the README has an sdkit run section with a command");
    const command = runBlock.text.split("\n").map(uncomment).find((l) => /\b(npx sdkit run|dist\/cli\/main\.js run) /.test(l));
    assert.ok(command, `an sdkit run command in:\n${runBlock.text}`);
    const clients = c.clients(blocks);
    assert.equal(clients.length, c.expect.length, `client commands found: ${JSON.stringify(clients)}`);

    const child = spawn("unshare", ["-n", "--", "/bin/sh", "-c", `ip link set lo up && ${command}`], {
      cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_update_notifier: "false" },
    });
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const exited = new Promise<void>((r) => child.on("close", () => r()));
    const pgid = child.pid!;
    t.after(async () => {
      try { process.kill(-pgid, "SIGKILL"); } catch { /* gone */ }
      await exited;
    });

    await until(() => (/^sdkit run: ready$/m.test(err) ? true : undefined), () => `"${command}" to report READY=1\nstdout: ${out}\nstderr: ${err}`);
    for (const [i, client] of clients.entries()) {
      assert.match(await inNamespace(pgid, client), c.expect[i]!, `${client}\nservice output: ${out}`);
    }

    process.kill(-pgid, "SIGINT"); // Ctrl-C
    await exited;
    assert.match(err, /^sdkit run: exit pid=\d+ code=0 /m, `stopped cleanly on Ctrl-C\n${err}`);
  });
}
