// Waits until a Kafka broker answers a metadata request (not just an open TCP port).
// Usage: node scripts/kafka/wait-ready.mjs <bootstrap> <timeoutSeconds>
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Kafka = require('node-rdkafka');

const [bootstrap = '127.0.0.1:19092', timeoutArg = '90'] = process.argv.slice(2);
const deadline = Date.now() + Number(timeoutArg) * 1000;

function probe() {
  return new Promise((resolve) => {
    const producer = new Kafka.Producer({
      'metadata.broker.list': bootstrap,
      'socket.connection.setup.timeout.ms': 2000,
      log_level: 0,
    });
    const done = (err) => {
      producer.disconnect(() => resolve(err));
    };
    producer.connect({ timeout: 3000 }, (err) => {
      if (err) return resolve(String(err.message ?? err));
      // A metadata answer that lists the broker means the broker (not just a port) is serving.
      producer.getMetadata({ timeout: 3000 }, (mErr, md) => {
        if (mErr) return done(String(mErr.message ?? mErr));
        done(md && md.brokers && md.brokers.length > 0 ? null : 'no brokers in metadata');
      });
    });
  });
}

let last = 'not tried';
while (Date.now() < deadline) {
  last = await probe();
  if (last === null) {
    process.stdout.write(`kafka ready at ${bootstrap}\n`);
    process.exit(0);
  }
  await new Promise((r) => setTimeout(r, 500));
}
process.stderr.write(`kafka at ${bootstrap} not ready after ${timeoutArg}s: ${last}\n`);
process.exit(1);
