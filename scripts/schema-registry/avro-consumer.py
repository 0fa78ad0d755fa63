#!/usr/bin/env python3
"""A standard Schema Registry consumer: reads a topic with confluent-kafka's AvroDeserializer and
SchemaRegistryClient (what Kafka Connect and ksqlDB do in Java), prints one JSON object per record.

    avro-consumer.py --bootstrap HOST:PORT --registry URL --topic T --count N [--timeout S]

Each output line: {"key": <str>, "schema_id": <int>, "value": <the decoded record>}. Exits 0 after N
records, 1 when fewer arrived within --timeout seconds (what it read is printed all the same), 2 when
a record could not be decoded (the error on stderr).
"""
import argparse
import json
import sys
import time
import uuid

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext, StringDeserializer


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--registry", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--timeout", type=float, default=60.0)
    args = p.parse_args()

    registry = SchemaRegistryClient({"url": args.registry})
    values = AvroDeserializer(registry)
    keys = StringDeserializer("utf_8")
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": f"avro-consumer-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([args.topic])
    read = 0
    deadline = time.monotonic() + args.timeout
    try:
        while read < args.count and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                print(f"consumer error: {msg.error()}", file=sys.stderr)
                continue
            raw = msg.value()
            try:
                value = values(raw, SerializationContext(msg.topic(), MessageField.VALUE, msg.headers()))
            except Exception as e:  # noqa: BLE001 - any failure to decode is the answer
                print(f"could not decode {msg.topic()}/{msg.partition()}@{msg.offset()}: {e!r}", file=sys.stderr)
                return 2
            schema_id = int.from_bytes(raw[1:5], "big") if raw and len(raw) >= 5 else None
            key = keys(msg.key(), SerializationContext(msg.topic(), MessageField.KEY))
            print(json.dumps({"key": key, "schema_id": schema_id, "value": value}, sort_keys=True), flush=True)
            read += 1
    finally:
        consumer.close()
    return 0 if read >= args.count else 1


if __name__ == "__main__":
    sys.exit(main())
