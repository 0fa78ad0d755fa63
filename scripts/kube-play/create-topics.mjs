// What Strimzi's topic operator does for the KafkaTopic resources of the played overlay: creates each
// topic (partitions, replicas, config) that does not exist yet. Runs inside the crowdpulse image (its
// node-rdkafka), from scripts/kube-play.sh:  node create-topics.mjs BOOTSTRAP TOPICS.json
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire('/app/package.json');
const { AdminClient, CODES } = require('node-rdkafka');

const [bootstrap, topicsFile] = process.argv.slice(2);
if (!bootstrap || !topicsFile) {
  console.error('usage: create-topics.mjs BOOTSTRAP TOPICS.json');
  process.exit(2);
}
const topics = JSON.parse(readFileSync(topicsFile, 'utf8'));
const admin = AdminClient.create({ 'bootstrap.servers': bootstrap, 'client.id': 'kube-play-topics' });
let failed = 0;
for (const t of topics) {
  const error = await new Promise((resolve) =>
    admin.createTopic({ topic: t.name, num_partitions: t.partitions, replication_factor: t.replicas, config: t.config }, 30000, resolve),
  );
  if (!error) console.log(`created ${t.name}: ${t.partitions} partitions, ${t.replicas} replica(s), ${JSON.stringify(t.config)}`);
  else if (error.code === CODES.ERRORS.ERR_TOPIC_ALREADY_EXISTS) console.log(`exists  ${t.name}`);
  else {
    console.error(`FAILED  ${t.name}: ${error.message}`);
    failed++;
  }
}
admin.disconnect();
process.exit(failed === 0 ? 0 : 1);
