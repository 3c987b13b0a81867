// polkadot.js reads the devnet like a node (run by scripts/client-checks).
// Usage: node check_polkadot_js.mjs WS_URL UPGRADE_BLOCK
import assert from 'node:assert/strict';
import { ApiPromise, WsProvider } from '@polkadot/api';

const [url, upgradeArg] = process.argv.slice(2);
const upgrade = Number(upgradeArg);
const warnings = [];
const warn = console.warn;
console.warn = (...args) => { warnings.push(args.join(' ')); warn(...args); };
const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true, throwOnConnect: true });

assert.equal((await api.rpc.system.chain()).toString(), 'Taoscope Devnet');
assert.equal((await api.rpc.system.properties()).ss58Format.unwrap().toNumber(), 42);

async function stakeAddedLengths (n) {
  const at = await api.at(await api.rpc.chain.getBlockHash(n));
  return (await at.query.system.events()).filter((e) => e.event.method === 'StakeAdded').map((e) => e.event.data.length);
}
const before = []; const after = [];
for (let n = 3; n <= upgrade; n++) before.push(...await stakeAddedLengths(n));
for (let n = upgrade + 1; n < upgrade + 12; n++) after.push(...await stakeAddedLengths(n));
assert.ok(before.length > 0 && before.every((l) => l === 5), `before: ${before}`);
assert.ok(after.length > 0 && after.every((l) => l === 6), `after: ${after}`);

const h = await api.rpc.chain.getBlockHash(upgrade - 2);
const block = await api.rpc.chain.getBlock(h);
assert.equal(`${block.block.extrinsics[0].method.section}.${block.block.extrinsics[0].method.method}`, 'timestamp.set');
const at = await api.at(h);
assert.ok((await at.query.subtensorModule.subnetTAO(1)).toBigInt() > 0n);
const later = await api.at(await api.rpc.chain.getBlockHash(upgrade + 5));
assert.ok((await later.query.swap.alphaSqrtPrice(1)).bits.toBigInt() > 0n);
const finalized = await new Promise((resolve) => {
  api.rpc.chain.subscribeFinalizedHeads((head) => resolve(head.number.toNumber()));
});
assert.ok(finalized > upgrade);
await api.disconnect();
assert.deepEqual(warnings.filter((w) => w.includes('PORTABLEREGISTRY') || w.includes('Unable to')), []);
console.log(`polkadot.js: ok (${before.length} 5-field and ${after.length} 6-field StakeAdded)`);
process.exit(0);
