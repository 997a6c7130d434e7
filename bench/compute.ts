// Benchmark for ADR 0005 (untrusted compute in worker threads):
//   1. the cost of the wire format (encode + structured clone + decode, both ways) for 10,000
//      small ExternalSecrets, against computing them inline, and a full pool round trip;
//   2. 1,000 renders of a CPU-heavy template inline, with 1 worker and with 2 workers.
//   0. (first, on a fresh heap) resident memory when every worker runs out of memory at once.
// Run: NODE_OPTIONS=--max-old-space-size=150 npm run bench:compute   (BENCH_SMALL=N, BENCH_HEAVY=N change the counts)
import { availableParallelism } from 'node:os';
import { createDesiredSecretCompute, type ComputeInput } from '../src/compute/index.ts';
import { computeInline } from '../src/compute/task.ts';
import { decodeInput, decodeResult, encodeInput, encodeResult } from '../src/compute/wire.ts';
import { anExternalSecret, remote, withData, withName, withTemplate } from '../test/fixtures/builders.ts';

const SMALL = Number(process.env['BENCH_SMALL'] ?? 10_000);
const HEAVY = Number(process.env['BENCH_HEAVY'] ?? 1_000);

function small(i: number): ComputeInput {
  return {
    externalSecret: anExternalSecret(withName(`es-${i}`), withData('username', `app/${i}/user`), withData('password', `app/${i}/password`)),
    fetched: { data: [remote(`user-${i}`), remote(`password-${i}-${'x'.repeat(24)}`)], dataFrom: [] },
  };
}

// CPU-heavy but legitimate: a config file built from JSON with loops, hashing and encoding.
const heavyTemplate = `{{- $cfg := .config | fromJson -}}
{{- range $i, $s := $cfg.servers }}
server {{ $s.name }} {{ $s.host }}:{{ $s.port }} weight={{ add $i 1 }} id={{ printf "%s-%d" $s.name $i | sha256sum | trunc 12 }}
{{- range $j := until 20 }} opt{{ $j }}={{ printf "%s%d" $s.name $j | b64enc | upper }}{{ end }}
{{- end }}
token={{ .password | sha512sum }}`;
function heavy(i: number): ComputeInput {
  const servers = Array.from({ length: 40 }, (_, j) => ({ name: `srv${j}`, host: `10.0.${j}.${i % 250}`, port: 8000 + j }));
  return {
    externalSecret: anExternalSecret(withName(`heavy-${i}`), withData('config', 'cfg'), withData('password', 'pw'), withTemplate({ data: { 'app.conf': heavyTemplate } })),
    fetched: { data: [remote(JSON.stringify({ servers })), remote(`pw-${i}`)], dataFrom: [] },
  };
}

function ms(t0: number): number {
  return Math.round((performance.now() - t0) * 10) / 10;
}

async function memory(): Promise<void> {
  console.log('\n2 workers out of memory at once, 3 rounds (run with NODE_OPTIONS=--max-old-space-size=150):');
  // Every worker blows its memory budget at once, several times: the controller's own heap
  //    (run this with NODE_OPTIONS=--max-old-space-size=150, as the README recommends) is
  //    untouched, and the process's resident memory is what a container limit must allow for.
  for (const limit of [32, 64, 128]) {
    const workers = 2;
    const c = createDesiredSecretCompute({ workers, timeoutMs: 30_000, memoryLimitMb: limit });
    const hoard = anExternalSecret(withData('v', 'k'), withTemplate({ data: { k: '{{ $a := until 1000000 }}{{ $b := concat $a $a $a $a $a $a $a $a }}{{ $c := concat $b $b $b $b }}{{ len $c }}' } }));
    await c.computeDesiredSecret({ externalSecret: anExternalSecret(withData('v', 'k'), withTemplate({ data: { k: 'ok' } })), fetched: { data: [remote('x')], dataFrom: [] } });
    const idleRss = process.memoryUsage().rss;
    let peakRss = 0;
    const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 20);
    const t0 = performance.now();
    for (let round = 0; round < 3; round++) {
      const rs = await Promise.all(Array.from({ length: workers }, () => c.computeDesiredSecret({ externalSecret: hoard, fetched: { data: [remote('x')], dataFrom: [] } })));
      if (rs.some((r) => r.ok || r.error.code !== 'ComputeBudgetExceeded')) throw new Error('expected memory budget errors');
    }
    clearInterval(sampler);
    await c.close();
    console.log(`  --template-memory-limit ${limit}Mi: RSS ${Math.round(idleRss / 2 ** 20)} MiB with workers idle, peak ${Math.round(peakRss / 2 ** 20)} MiB, main heap used ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MiB, ${ms(t0)} ms for the 3 rounds`);
  }
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${availableParallelism()} cores available`);
  if (process.env["BENCH_SKIP_MEMORY"] !== "1") await memory();

  // 1. wire cost at 10k small ExternalSecrets
  const inputs = Array.from({ length: SMALL }, (_, i) => small(i));
  let t0 = performance.now();
  const results = inputs.map((input) => computeInline(input));
  const inlineMs = ms(t0);
  t0 = performance.now();
  for (let i = 0; i < inputs.length; i++) {
    decodeInput(structuredClone(encodeInput(inputs[i]!)));
    decodeResult(structuredClone(encodeResult(results[i]!)));
  }
  const wireMs = ms(t0);
  const pool = createDesiredSecretCompute({ workers: 2, timeoutMs: 10_000, memoryLimitMb: 64, isolateAll: true });
  await pool.computeDesiredSecret(inputs[0]!); // start the workers
  t0 = performance.now();
  await Promise.all(inputs.map((input) => pool.computeDesiredSecret(input)));
  const poolMs = ms(t0);
  await pool.close();
  console.log(`\n${SMALL} small ExternalSecrets (2 data refs, no template):`);
  console.log(`  inline desiredSecret                     ${inlineMs} ms  (${Math.round((inlineMs / SMALL) * 1000)} µs each)`);
  console.log(`  wire format + structured clone, 2 ways   ${wireMs} ms  (${Math.round((wireMs / SMALL) * 1000)} µs each)`);
  console.log(`  through a 2-worker pool (all in flight)  ${poolMs} ms  (${Math.round((poolMs / SMALL) * 1000)} µs each)`);

  // 2. CPU-heavy template, inline vs 1 and 2 workers
  const heavies = Array.from({ length: HEAVY }, (_, i) => heavy(i));
  t0 = performance.now();
  for (const h of heavies) {
    const r = computeInline(h);
    if (!r.ok) throw r.error;
  }
  const heavyInline = ms(t0);
  const timed: Record<number, number> = {};
  for (const workers of [1, 2]) {
    const c = createDesiredSecretCompute({ workers, timeoutMs: 30_000, memoryLimitMb: 64 });
    await Promise.all(Array.from({ length: workers * 2 }, (_, i) => c.computeDesiredSecret(heavies[i]!))); // warm every worker
    t0 = performance.now();
    const rs = await Promise.all(heavies.map((h) => c.computeDesiredSecret(h)));
    timed[workers] = ms(t0);
    await c.close();
    const bad = rs.find((r) => !r.ok);
    if (bad && !bad.ok) throw bad.error;
  }
  console.log(`\n${HEAVY} renders of a CPU-heavy template (40 servers × 20 options, hashing):`);
  console.log(`  inline on the event loop   ${heavyInline} ms  (${Math.round((heavyInline / HEAVY) * 100) / 100} ms each; the loop is blocked for each)`);
  console.log(`  1 worker                   ${timed[1]} ms`);
  console.log(`  2 workers                  ${timed[2]} ms  (speed-up over 1 worker: ${Math.round((timed[1]! / timed[2]!) * 100) / 100}×)`);

}

await main();
