// `npm run peers:up` / `npm run peers:down` / `npm run peers:status`.
import { allPeers, peersDown, peersStatus, peersUp, stateDir, type PeerName } from './index.ts';

const [command = 'status', ...rest] = process.argv.slice(2);
const names = (rest.length ? rest : allPeers) as PeerName[];
for (const n of names) {
  if (!allPeers.includes(n)) {
    console.error(`unknown peer "${n}"; known: ${allPeers.join(', ')}`);
    process.exit(2);
  }
}

if (command === 'up') {
  const t0 = Date.now();
  await peersUp(names);
  console.log(`peers up in ${((Date.now() - t0) / 1000).toFixed(1)} s; environment: source ${stateDir}/env`);
} else if (command === 'down') {
  await peersDown(names);
} else if (command === 'status') {
  for (const s of await peersStatus()) {
    console.log(`${s.name.padEnd(24)} ${s.ok ? 'ready' : 'down '} ${s.pid ?? ''} ${s.ok ? '' : s.detail}`);
  }
} else {
  console.error('usage: peers up|down|status [peer ...]');
  process.exit(2);
}
